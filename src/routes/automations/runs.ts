import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { listRuns, publicRun } from "../../services/automation-runs";
import { automationForPrincipal } from "../../services/automations";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { AutomationIdParam, AutomationRunList } from "./schema";

const route = createRoute({
  method: "get",
  path: "/automations/{automationId}/runs",
  tags: ["Automations"],
  summary: "An automation's last 20 runs (its sync logs)",
  ...auth.session(),
  request: { params: AutomationIdParam },
  responses: { 200: jsonResponse(AutomationRunList, "Runs, newest first"), ...authErrorResponses },
});

export function registerListRuns(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const automation = await automationForPrincipal(db, principalOf(c), c.req.valid("param").automationId);
    return c.json({ runs: (await listRuns(db, automation.id)).map(publicRun) }, 200);
  });
}
