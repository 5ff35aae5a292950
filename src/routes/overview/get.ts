import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { projectOverview } from "../../services/project-overview";
import { projectForPrincipal } from "../../services/access";
import { auth, type Router } from "../router";
import { jsonResponse, ProjectIdParam } from "../schemas";
import { Overview } from "./schema";

const route = createRoute({
  method: "get",
  path: "/projects/{projectId}/overview",
  operationId: "getProjectOverview",
  tags: ["Customers"],
  summary: "Aggregate ML statistics of a project",
  ...auth.sessionOrApiKey(),
  request: { params: ProjectIdParam },
  responses: { 200: jsonResponse(Overview, "Counts, revenue, churn distribution, ABC shares, segments and the last run"), ...authErrorResponses },
});


export function registerProjectOverview(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId);
    return c.json(await projectOverview(c.env.DB, db, project), 200);
  });
}
