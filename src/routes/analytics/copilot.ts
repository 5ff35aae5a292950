import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { analyticsScope } from "../../services/access";
import { copilotAnalytics } from "../../services/segops";
import type { Router } from "../router";
import { jsonResponse } from "../schemas";
import { Copilot, scopeDescription as description, scopedRoute as common } from "./schema";

const route = createRoute({
    method: "get",
    path: "/copilot",
    operationId: "getCopilotUsage",
    summary: "Copilot calls: total and 30 days of daily success and error counts",
    description: `${description} From the copilot call log; days without calls are omitted. Errors include refusals for quota.`,
    ...common,
    responses: { 200: jsonResponse(Copilot, "Copilot usage"), ...authErrorResponses },
  });

export function registerCopilotUsage(app: Router) {
  app.openapi(route, async (c) => {
    const scope = await analyticsScope(database(c.env.DB), principalOf(c), c.req.valid("query").project_id);
    return c.json(await copilotAnalytics(c.env.DB, scope), 200);
  });
}
