import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, invalidField } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { analyticsScope } from "../../services/access";
import { ROW_CAP, runAnalyticsQuery, SIZE_CAP_BYTES } from "../../services/sql-query";
import { auth, type Router } from "../router";
import { jsonBody, jsonResponse } from "../schemas";
import { QueryBody, QueryResult, ScopeQuery } from "./schema";

const route = createRoute({
  method: "post",
  path: "/query",
  operationId: "runSqlQuery",
  tags: ["Analytics SQL"],
  summary: "Run one read-only SQL query over your star schema",
  description:
    "SQLite dialect. It runs in your organization's own warehouse (a copy of your star tables, brought up to date with every change " +
    "before the query runs), never on the shared database. One SELECT or WITH … SELECT (UNION allowed) over the tables of GET /api/analytics/schema, " +
    "limited to your organization (or your API key's project, or `project_id`). Allow-listed functions only; no recursive CTEs, " +
    `and each join must equate a key of one side. At most ${ROW_CAP.toLocaleString("en")} rows and ${SIZE_CAP_BYTES / 1_000_000} MB (meta.truncated). Money is in integer cents; ` +
    "times are UTC milliseconds; 64-bit integers come back as strings. Refusals and SQL errors: 400 `invalid_query` with the position.",
  ...auth.sessionOrApiKey(),
  request: { query: ScopeQuery, body: jsonBody(QueryBody) },
  responses: { 200: jsonResponse(QueryResult, "Typed columns and rows"), ...authErrorResponses },
});

export function registerSqlQuery(app: Router) {
  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const fromQuery = c.req.valid("query").project_id;
    if (fromQuery && body.project_id && fromQuery !== body.project_id) {
      throw invalidField("project_id", "conflict", "project_id in the query string and in the body differ");
    }
    const scope = await analyticsScope(database(c.env.DB), principalOf(c), body.project_id ?? fromQuery);
    return c.json(await runAnalyticsQuery(c.env, scope, body.query), 200);
  });
}
