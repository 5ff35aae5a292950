import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { starTables } from "../../analytics/star-schema";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { analyticsScope } from "../../services/access";
import { ROW_CAP } from "../../services/sql-query";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { ScopeQuery, SqlSchema } from "./schema";

const route = createRoute({
  method: "get",
  path: "/schema",
  operationId: "getSqlSchema",
  tags: ["Analytics SQL"],
  summary: "The queryable tables, their columns and types",
  description: "The same for every project; a `project_id` is checked as on the other analytics routes (another tenant's project is 404, or 403 for an API key).",
  ...auth.sessionOrApiKey(),
  request: { query: ScopeQuery },
  responses: { 200: jsonResponse(SqlSchema, "The star schema"), ...authErrorResponses },
});

export function registerSqlSchema(app: Router) {
  app.openapi(route, async (c) => {
    const { project_id: projectId } = c.req.valid("query");
    // Without a project the schema names nothing of a tenant, so any credential may read it.
    if (projectId !== undefined) await analyticsScope(database(c.env.DB), principalOf(c), projectId);
    return c.json(
      {
        dialect: "sqlite" as const,
        row_limit: ROW_CAP,
        tables: starTables.map((t) => ({ name: t.name, description: t.description, columns: t.columns.map(({ name, type, description }) => ({ name, type, description })), keys: t.keys })),
      },
      200,
    );
  });
}
