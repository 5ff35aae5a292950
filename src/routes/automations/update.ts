import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { automationForPrincipal, publicAutomation, updateAutomation } from "../../services/automations";
import { MANAGERS } from "../../services/organizations";
import { auth, type Router } from "../router";
import { jsonBody, jsonResponse } from "../schemas";
import { Automation, AutomationIdParam, UpdateAutomationBody } from "./schema";

const route = createRoute({
  method: "patch",
  path: "/automations/{automationId}",
  operationId: "updateAutomation",
  tags: ["Automations"],
  summary: "Change an automation, pause or resume it",
  description: "Owners and admins. Resuming counts against the plan's automations quota.",
  ...auth.session(),
  request: { params: AutomationIdParam, body: jsonBody(UpdateAutomationBody) },
  responses: { 200: jsonResponse(Automation, "Updated"), ...authErrorResponses },
});

export function registerUpdateAutomation(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const automation = await automationForPrincipal(db, principalOf(c), c.req.valid("param").automationId, MANAGERS);
    return c.json(publicAutomation(await updateAutomation(db, automation, c.req.valid("json"))), 200);
  });
}
