import { createRoute } from "@hono/zod-openapi";
import { commonErrorResponses } from "../../errors";
import { planIds, plans, reportedLimit } from "../../billing/plans";
import type { Router } from "../router";
import { jsonResponse } from "../schemas";
import { PlanList } from "./schema";

const GB = 1024 ** 3;

const route = createRoute({
  method: "get",
  path: "/",
  operationId: "listPlans",
  tags: ["Billing"],
  summary: "The plans, their prices and quotas",
  description: "Public. Prices in USD cents per month (annual: per month, billed yearly); quotas per organization, -1 for unlimited.",
  responses: { 200: jsonResponse(PlanList, "Every plan, smallest first"), ...commonErrorResponses },
});

export function registerListPlans(app: Router) {
  app.openapi(route, (c) =>
    c.json(
      {
        plans: planIds.map((id) => {
          const plan = plans[id];
          const q = plan.quotas;
          return {
            id,
            name: plan.name,
            self_serve: plan.selfServe,
            prices: { monthly: plan.monthlyPriceCents, annual: plan.annualMonthlyPriceCents },
            quotas: {
              rows: reportedLimit(q.rows),
              profiles: reportedLimit(q.profiles),
              modelRuns: reportedLimit(q.modelRuns),
              genaiOps: reportedLimit(q.genaiOps),
              automations: reportedLimit(q.automations),
              storageGb: q.storageBytes === null ? -1 : q.storageBytes / GB,
              teamSeats: reportedLimit(q.teamSeats),
            },
          };
        }),
      },
      200,
    ),
  );
}
