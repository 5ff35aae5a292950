import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { listRuns, publicRun } from "../../services/automation-runs";
import { automationForPrincipal } from "../../services/automations";
import { auth, type Router } from "../router";
import { jsonResponse, PageQuery } from "../schemas";
import { AutomationIdParam, AutomationRunList } from "./schema";

const route = createRoute({
  method: "get",
  path: "/automations/{automationId}/runs",
  operationId: "listAutomationRuns",
  tags: ["Automations"],
  summary: "An automation's runs (its sync logs), newest first",
  ...auth.session(),
  request: { params: AutomationIdParam, query: PageQuery },
  responses: { 200: jsonResponse(AutomationRunList, "Runs, newest first"), ...authErrorResponses },
});

export function registerListRuns(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const automation = await automationForPrincipal(db, principalOf(c), c.req.valid("param").automationId);
    const page = await listRuns(db, automation.id, c.req.valid("query"));
    return c.json({ runs: page.items.map(publicRun), total: page.total, page: page.page, pages: page.pages }, 200);
  });
}
