import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { analyticsScope } from "../../services/access";
import { activity } from "../../services/crm-analytics";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { ActivityQuery, ActivityRow, envelope, parseFilters, tooLarge } from "./schema";

const route = createRoute({
  method: "get",
  path: "/activity",
  operationId: "getCrmActivity",
  tags: ["CRM analytics"],
  summary: "Activity per customer dimension and period",
  description:
    "Purchases (returns excluded) grouped by `grouping_interval` (weeks start on Monday) and, with `group_by`, by an `extra_features` key of the transactions (e.g. country). " +
    "Filters on `activity_on` (the order day) and `dimension`.",
  ...auth.sessionOrApiKey(),
  request: { query: ActivityQuery },
  responses: { 200: jsonResponse(envelope(ActivityRow, "CrmActivity"), "Activity"), ...authErrorResponses, ...tooLarge },
});

export function registerActivity(app: Router) {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const scope = await analyticsScope(database(c.env.DB), principalOf(c), q.project_id);
    const conditions = parseFilters(q.filters, ["activity_on", "dimension"], c.get("locale"));
    return c.json({ status: "success" as const, data: await activity(c.env, scope, { interval: q.grouping_interval, groupBy: q.group_by, conditions, orderBy: q.order_by }) }, 200);
  });
}
