import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { analyticsScope } from "../../services/access";
import { userCohorts } from "../../services/crm-analytics";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { CohortQuery, CohortRow, envelope, parseFilters, tooLarge } from "./schema";

const route = createRoute({
  method: "get",
  path: "/user_cohorts",
  operationId: "getCrmUserCohorts",
  tags: ["CRM analytics"],
  summary: "Retention cohorts",
  description:
    "`new`: a customer's cohort is the period of their first purchase ever. `active`: a customer belongs to the cohort of every period they purchased in. " +
    "Each row counts the cohort's customers who purchased in `activity_on`; the row with activity_on = cohort_on (period 0) is the cohort's size. Filters on `cohort_on` and `activity_on`.",
  ...auth.sessionOrApiKey(),
  request: { query: CohortQuery },
  responses: {
    200: jsonResponse(envelope(CohortRow, "CrmCohorts"), "Cohort cells"),
    ...authErrorResponses,
    ...tooLarge,
  },
});

export function registerUserCohorts(app: Router) {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const scope = await analyticsScope(database(c.env.DB), principalOf(c), q.project_id);
    const conditions = parseFilters(q.filters, ["cohort_on", "activity_on"], c.get("locale"));
    return c.json({ status: "success" as const, data: await userCohorts(c.env, scope, { interval: q.grouping_interval, userType: q.user_type, conditions, orderBy: q.order_by }) }, 200);
  });
}
