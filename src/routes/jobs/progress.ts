import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { currentProgress, jobForPrincipal } from "../../services/jobs";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { JobIdParam, Progress } from "./schema";

const route = createRoute({
  method: "get",
  path: "/jobs/{jobId}/progress",
  operationId: "getJobProgress",
  tags: ["Jobs"],
  summary: "A job's live progress",
  description: "From the job's Durable Object while it lives (until about an hour after the job ends), then from the persisted record.",
  ...auth.sessionOrApiKey(),
  request: { params: JobIdParam },
  responses: { 200: jsonResponse(Progress, "Progress"), ...authErrorResponses },
});

export function registerJobProgress(app: Router) {
  app.openapi(route, async (c) => {
    const job = await jobForPrincipal(database(c.env.DB), principalOf(c), c.req.valid("param").jobId);
    return c.json(await currentProgress(c.env, job), 200);
  });
}
