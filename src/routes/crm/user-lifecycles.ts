import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, invalidField } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { analyticsScope } from "../../services/access";
import { userLifecycles } from "../../services/crm-analytics";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { envelope, LifecycleQuery, LifecycleRow, parseFilters, tooLarge } from "./schema";

const route = createRoute({
  method: "get",
  path: "/user_lifecycles",
  operationId: "getCrmUserLifecycles",
  tags: ["CRM analytics"],
  summary: "Customers per lifecycle stage and period",
  description:
    "Each customer is counted once per period, in their stage at the period's end. With the last purchase on or before the period's last day: more than `lapsed_after_days` (default 90) ago → lapsed; " +
    "more than `dormant_after_days` (default 30) → dormant; otherwise new (first purchase ever in the period), reactivated (first purchase in the period more than dormant_after_days after the previous one) or active. " +
    "Customers who bought before the range are never new in it. Conditions on `activity_on` select periods by their first day, at most 520; without a lower bound the periods are the 12 up to the latest purchase (or the upper bound).",
  ...auth.sessionOrApiKey(),
  request: { query: LifecycleQuery },
  responses: {
    200: jsonResponse(envelope(LifecycleRow, "CrmLifecycles"), "Stage counts"),
    ...authErrorResponses,
    ...tooLarge,
  },
});

export function registerUserLifecycles(app: Router) {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    if (q.lapsed_after_days <= q.dormant_after_days) {
      throw invalidField("lapsed_after_days", "too_small", "lapsed_after_days must exceed dormant_after_days");
    }
    const scope = await analyticsScope(database(c.env.DB), principalOf(c), q.project_id);
    const conditions = parseFilters(q.filters, ["activity_on", "lifecycle_status"], c.get("locale"));
    const data = await userLifecycles(c.env, scope, {
      interval: q.grouping_interval,
      dormantAfterDays: q.dormant_after_days,
      lapsedAfterDays: q.lapsed_after_days,
      conditions,
      orderBy: q.order_by,
    });
    return c.json({ status: "success" as const, data }, 200);
  });
}
