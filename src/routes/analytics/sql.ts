import { createRoute, z } from "@hono/zod-openapi";
import { starTables } from "../../analytics/star-schema";
import { signalsMetadata } from "../../services/signals";
import { authErrorResponses, invalidField } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { analyticsScope } from "../../services/access";
import { ROW_CAP, runAnalyticsQuery, SIZE_CAP_BYTES } from "../../services/sql-query";
import { auth, type Router } from "../router";
import { jsonBody, jsonResponse } from "../schemas";
import { ScopeQuery } from "./schema";

const QueryBody = z
  .object({
    query: z.string().min(1).max(20_000).openapi({ example: "SELECT segment_label, COUNT(*) AS customers, SUM(monetary_cents) AS revenue_cents FROM dim_customer GROUP BY 1 ORDER BY 3 DESC" }),
    project_id: z.string().min(1).max(64).optional().openapi({ description: "Narrow a session's organization-wide view to one project (or ?project_id=; both must agree)" }),
  })
  .strict()
  .openapi("AnalyticsQueryRequest");

const QueryResult = z
  .object({
    columns: z.array(z.object({ name: z.string(), type: z.enum(["int64", "float64", "string", "bytes", "null"]) })),
    rows: z.array(z.array(z.unknown())).openapi({ description: "In column order; int64 values are strings" }),
    meta: z.object({
      rows: z.number().int(),
      elapsed_ms: z.number().openapi({ description: "Running the query in the warehouse" }),
      catch_up_ms: z.number().openapi({ description: "Bringing the warehouse up to date with D1 first" }),
      truncated: z.boolean(),
      truncated_by: z.enum(["rows", "size"]).nullable().openapi({ description: `rows: more than the row cap; size: more than ${SIZE_CAP_BYTES / 1_000_000} MB of values` }),
      tables: z.array(z.string()),
    }),
  })
  .openapi("AnalyticsQueryResult");

const Schema = z
  .object({
    dialect: z.literal("sqlite"),
    row_limit: z.number().int(),
    tables: z.array(
      z.object({
        name: z.string(),
        description: z.string(),
        columns: z.array(z.object({ name: z.string(), type: z.string(), description: z.string() })),
        keys: z.array(z.array(z.string())).openapi({ description: "Column sets naming at most one row (per project): a JOIN must equate one of them on one side" }),
      }),
    ),
  })
  .openapi("AnalyticsSchema");

const SignalsMetadata = z
  .object({
    data: z.array(
      z.object({
        project_id: z.string(),
        path: z.string().openapi({ example: "$.country", description: "Use with json_extract(extra_features, path)" }),
        types: z.array(z.object({ type: z.string(), customers: z.number().int() })),
      }),
    ),
  })
  .openapi("SignalsMetadata");

const query = createRoute({
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

const schema = createRoute({
  method: "get",
  path: "/schema",
  operationId: "getSqlSchema",
  tags: ["Analytics SQL"],
  summary: "The queryable tables, their columns and types",
  ...auth.sessionOrApiKey(),
  responses: { 200: jsonResponse(Schema, "The star schema"), ...authErrorResponses },
});

const signals = createRoute({
  method: "get",
  path: "/signals/metadata",
  operationId: "getSignalsMetadata",
  tags: ["Analytics SQL"],
  summary: "JSON paths seen in customers' extra_features, with their types, per project",
  ...auth.sessionOrApiKey(),
  request: { query: ScopeQuery },
  responses: { 200: jsonResponse(SignalsMetadata, "Paths and observed types"), ...authErrorResponses },
});

export function registerSqlApi(app: Router) {
  app.openapi(query, async (c) => {
    const body = c.req.valid("json");
    const fromQuery = c.req.valid("query").project_id;
    if (fromQuery && body.project_id && fromQuery !== body.project_id) {
      throw invalidField("project_id", "conflict", "project_id in the query string and in the body differ");
    }
    const scope = await analyticsScope(database(c.env.DB), principalOf(c), body.project_id ?? fromQuery);
    return c.json(await runAnalyticsQuery(c.env, scope, body.query), 200);
  });
  app.openapi(schema, (c) =>
    c.json(
      {
        dialect: "sqlite" as const,
        row_limit: ROW_CAP,
        tables: starTables.map((t) => ({ name: t.name, description: t.description, columns: t.columns.map(({ name, type, description }) => ({ name, type, description })), keys: t.keys })),
      },
      200,
    ),
  );
  app.openapi(signals, async (c) => {
    const scope = await analyticsScope(database(c.env.DB), principalOf(c), c.req.valid("query").project_id);
    return c.json({ data: await signalsMetadata(c.env.DB, scope) }, 200);
  });
}
