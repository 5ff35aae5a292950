import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, errorResponse } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { startRun } from "../../services/automation-runs";
import { automationForPrincipal } from "../../services/automations";
import { MANAGERS } from "../../services/organizations";
import { auth, type Router } from "../router";
import { acceptedResponse, jobStatusPath } from "../schemas";
import { AutomationIdParam, RunAccepted } from "./schema";

const route = createRoute({
  method: "post",
  path: "/automations/{automationId}/run",
  operationId: "runAutomation",
  tags: ["Automations"],
  summary: "Run an automation now",
  description:
    "Owners and admins. 202 with a job (progress and SSE under /api/engine/jobs). The activations queue delivers the members in chunks; the holdout is never sent.",
  ...auth.session(),
  request: { params: AutomationIdParam },
  responses: { 202: acceptedResponse(RunAccepted, "Queued"), 409: errorResponse("Paused, or a run is in progress (`conflict`)"), ...authErrorResponses },
});

export function registerRunAutomation(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const automation = await automationForPrincipal(db, principalOf(c), c.req.valid("param").automationId, MANAGERS);
    const { run, job } = await startRun(c.env, db, automation, "manual");
    c.header("Location", jobStatusPath(job.id));
    return c.json({ job_id: job.id, run_id: run.id, status: run.status }, 202);
  });
}
