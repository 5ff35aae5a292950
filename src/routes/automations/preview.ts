import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { automationForPrincipal, planMembers, publicPreview } from "../../services/automations";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { AutomationIdParam, AutomationPreview } from "./schema";

const route = createRoute({
  method: "get",
  path: "/automations/{automationId}/preview",
  operationId: "previewAutomation",
  tags: ["Automations"],
  summary: "What the next run would do, without sending",
  description: "Members to add and remove since the last successful sync, the holdout, and members skipped for lack of an address: counts and samples. " +
    "An automation whose segment a model run dropped shows `segment_missing` (no members) and the `status_reason` it was paused with.",
  ...auth.session(),
  request: { params: AutomationIdParam },
  responses: { 200: jsonResponse(AutomationPreview, "The plan of the next run"), ...authErrorResponses },
});

export function registerPreviewAutomation(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const automation = await automationForPrincipal(db, principalOf(c), c.req.valid("param").automationId);
    return c.json(publicPreview(automation, await planMembers(c.env.DB, db, automation, { missingSegment: "empty" })), 200);
  });
}
