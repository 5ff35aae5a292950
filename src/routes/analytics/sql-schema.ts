import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { starTables } from "../../analytics/star-schema";
import { ROW_CAP } from "../../services/sql-query";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { SqlSchema } from "./schema";

const route = createRoute({
  method: "get",
  path: "/schema",
  operationId: "getSqlSchema",
  tags: ["Analytics SQL"],
  summary: "The queryable tables, their columns and types",
  ...auth.sessionOrApiKey(),
  responses: { 200: jsonResponse(SqlSchema, "The star schema"), ...authErrorResponses },
});

export function registerSqlSchema(app: Router) {
  app.openapi(route, (c) =>
    c.json(
      {
        dialect: "sqlite" as const,
        row_limit: ROW_CAP,
        tables: starTables.map((t) => ({ name: t.name, description: t.description, columns: t.columns.map(({ name, type, description }) => ({ name, type, description })), keys: t.keys })),
      },
      200,
    ),
  );
}
