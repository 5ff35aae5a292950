import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, errorResponse } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { acceptFile } from "../../services/files";
import { projectForPrincipal } from "../../services/access";
import { assertProfilesQuota, assertRowsQuota, newCustomerCount } from "../../services/quotas";
import { auth, createRouter } from "../router";
import { acceptedResponse, jobStatusPath, jsonBody } from "../schemas";
import { assertWellFormedText, batchPayloadSha256, customerIdField, customerIdsOf, recordsToCsv } from "./records-csv";
import { Accepted, IngestBody } from "./schema";

const route = createRoute({
  method: "post",
  path: "/ingest",
  operationId: "ingestTransactions",
  tags: ["Ingest"],
  summary: "Send transactions (API key)",
  description:
    "Stores the batch as a CSV file and queues it; answers 202 at once. Follow the job at `/api/engine/jobs/{job_id}/status` or its SSE stream. " +
    "Rows that fail validation are counted and listed on the job's result; the rest are kept.",
  ...auth.apiKey(),
  request: { body: jsonBody(IngestBody) },
  responses: {
    202: acceptedResponse(Accepted, "Queued (or, for a repeated batch_id with the same payload, the first job)"),
    ...authErrorResponses,
    409: errorResponse("`conflict`: the batch_id was already accepted with a different payload (detail names the first job)"),
    400: errorResponse("Validation failed (`validation_error`), also when `mapping` names a field none of the records has or no customer, date or amount field is found"),
    429: errorResponse("Rate limited (`rate_limited`), or the plan's rows or profiles would be exceeded (`quota_exceeded`, detail `{quota, limit, used, adding}`)"),
  },
});

export function ingestRoutes() {
  const app = createRouter();
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const body = c.req.valid("json");
    const project = await projectForPrincipal(db, principalOf(c), body.project_id);
    assertWellFormedText(body.records);
    const customerField = customerIdField(body.records, body.mapping);
    await assertRowsQuota(db, project.organizationId, body.records.length);
    await assertProfilesQuota(db, project.organizationId, await newCustomerCount(c.env.DB, project.id, customerIdsOf(body.records, customerField)));
    const { file, job } = await acceptFile(db, c.env, project, {
      source: "ingest",
      format: "csv",
      filename: `ingest-${body.batch_id ?? new Date().toISOString()}.csv`,
      body: recordsToCsv(body.records),
      batchId: body.batch_id,
      payloadSha256: body.batch_id === undefined ? undefined : await batchPayloadSha256(body.records, body.mapping),
      mapping: body.mapping,
    });
    c.header("Location", jobStatusPath(job.id));
    return c.json({ job_id: job.id, file_id: file.id, status: job.status === "queued" ? "processing" : job.status }, 202);
  });
  return app;
}
