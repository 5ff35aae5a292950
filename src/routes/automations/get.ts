import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { automationForPrincipal, publicAutomation } from "../../services/automations";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { Automation, AutomationIdParam } from "./schema";

const route = createRoute({
  method: "get",
  path: "/automations/{automationId}",
  operationId: "getAutomation",
  tags: ["Automations"],
  summary: "One automation",
  ...auth.session(),
  request: { params: AutomationIdParam },
  responses: { 200: jsonResponse(Automation, "The automation"), ...authErrorResponses },
});

export function registerGetAutomation(app: Router) {
  app.openapi(route, async (c) => {
    const automation = await automationForPrincipal(database(c.env.DB), principalOf(c), c.req.valid("param").automationId);
    return c.json(publicAutomation(automation), 200);
  });
}
