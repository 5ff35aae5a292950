import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, errorResponse } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { replayRun, runForPrincipal } from "../../services/automation-runs";
import { MANAGERS } from "../../services/organizations";
import { auth, type Router } from "../router";
import { acceptedResponse, jobStatusPath } from "../schemas";
import { RunAccepted, RunIdParam } from "./schema";

const route = createRoute({
  method: "post",
  path: "/automation-runs/{runId}/replay",
  operationId: "replayAutomationRun",
  tags: ["Automations"],
  summary: "Send a finished run's failed chunks again",
  description: "Owners and admins. Only the chunks that failed are queued again, under a new job; delivered chunks are not sent twice.",
  ...auth.session(),
  request: { params: RunIdParam },
  responses: { 202: acceptedResponse(RunAccepted, "Queued"), 409: errorResponse("The run is in progress or has no failed chunks (`conflict`)"), ...authErrorResponses },
});

export function registerReplayRun(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const run = await runForPrincipal(db, principalOf(c), c.req.valid("param").runId, MANAGERS);
    const { job, chunks } = await replayRun(c.env, db, run);
    c.header("Location", jobStatusPath(job.id));
    return c.json({ job_id: job.id, run_id: run.id, status: "processing", chunks }, 202);
  });
}
