import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, errorResponse } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { automationForPrincipal, deleteAutomation } from "../../services/automations";
import { MANAGERS } from "../../services/organizations";
import { auth, type Router } from "../router";
import { AutomationIdParam } from "./schema";

const route = createRoute({
  method: "delete",
  path: "/automations/{automationId}",
  operationId: "deleteAutomation",
  tags: ["Automations"],
  summary: "Delete an automation and its run history",
  description: "Owners and admins.",
  ...auth.session(),
  request: { params: AutomationIdParam },
  responses: { 204: { description: "Deleted" }, 409: errorResponse("A run is in progress (`conflict`)"), ...authErrorResponses },
});

export function registerDeleteAutomation(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    await deleteAutomation(db, await automationForPrincipal(db, principalOf(c), c.req.valid("param").automationId, MANAGERS));
    return c.body(null, 204);
  });
}
