import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, errorResponse } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { projectForPrincipal } from "../../services/access";
import { requestSegmentation } from "../../services/segmentation-queue";
import { assertModelRunQuota } from "../../services/usage-counters";
import { Accepted } from "../ingest/schema";
import { auth, createRouter } from "../router";
import { acceptedResponse, jobStatusPath, ProjectIdParam } from "../schemas";

const route = createRoute({
  method: "post",
  path: "/projects/{projectId}/segmentation",
  operationId: "runSegmentation",
  tags: ["Segments"],
  summary: "Rerun segmentation now",
  description:
    "Queues a model run (RFM, K-Means with automatic k, BG/NBD churn, ABC, embeddings) and answers 202 with its job. " +
    "A run still waiting to start is returned instead of queueing another. Counts against the plan's model runs.",
  ...auth.session(),
  request: { params: ProjectIdParam },
  responses: {
    202: acceptedResponse(Accepted.extend({}).openapi("SegmentationAccepted"), "Queued"),
    ...authErrorResponses,
    429: errorResponse("Rate limited (`rate_limited`) or the plan's model runs are used up (`quota_exceeded`)"),
  },
});

export function segmentationRoutes() {
  const app = createRouter();
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId);
    await assertModelRunQuota(db, project.organizationId);
    const job = await requestSegmentation(db, c.env, project.id, project.organizationId, "requested by a user");
    c.header("Location", jobStatusPath(job.id));
    return c.json({ job_id: job.id, file_id: null, status: job.status }, 202);
  });
  return app;
}
