import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { jobForPrincipal, publicJob } from "../../services/jobs";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { JobIdParam, JobStatusRecord } from "./schema";

const route = createRoute({
  method: "get",
  path: "/jobs/{jobId}/status",
  operationId: "getJobStatus",
  tags: ["Jobs"],
  summary: "A job's persisted record",
  description: "Type, status, result with counts, error_message and timestamps. Kept after the live progress expires.",
  ...auth.sessionOrApiKey(),
  request: { params: JobIdParam },
  responses: { 200: jsonResponse(JobStatusRecord, "The job"), ...authErrorResponses },
});

export function registerJobStatus(app: Router) {
  app.openapi(route, async (c) => {
    const job = await jobForPrincipal(database(c.env.DB), principalOf(c), c.req.valid("param").jobId);
    return c.json(publicJob(job), 200);
  });
}
