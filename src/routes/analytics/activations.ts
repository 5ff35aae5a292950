import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { analyticsScope } from "../../services/access";
import { activationAnalytics } from "../../services/segops";
import type { Router } from "../router";
import { jsonResponse } from "../schemas";
import { Activations, scopeDescription as description, scopedRoute as common } from "./schema";

const route = createRoute({
    method: "get",
    path: "/activations",
    operationId: "getActivations",
    summary: "Per-connector activation breakdown",
    description: `${description} One row per automation; its sync logs are its finished runs: success_rate (% of runs that fully succeeded) over the last 30 (null without logs), and the 5 most recent, user_count being the members delivered.`,
    ...common,
    responses: { 200: jsonResponse(Activations, "Connectors"), ...authErrorResponses },
  });

export function registerActivations(app: Router) {
  app.openapi(route, async (c) => {
    const scope = await analyticsScope(database(c.env.DB), principalOf(c), c.req.valid("query").project_id);
    return c.json(await activationAnalytics(c.env.DB, scope), 200);
  });
}
