import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { analyticsScope } from "../../services/access";
import { signalsMetadata } from "../../services/signals";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { ScopeQuery, SignalsMetadata } from "./schema";

const route = createRoute({
  method: "get",
  path: "/signals/metadata",
  operationId: "getSignalsMetadata",
  tags: ["Analytics SQL"],
  summary: "JSON paths seen in customers' extra_features, with their types, per project",
  ...auth.sessionOrApiKey(),
  request: { query: ScopeQuery },
  responses: { 200: jsonResponse(SignalsMetadata, "Paths and observed types"), ...authErrorResponses },
});

export function registerSignalsMetadata(app: Router) {
  app.openapi(route, async (c) => {
    const scope = await analyticsScope(database(c.env.DB), principalOf(c), c.req.valid("query").project_id);
    return c.json({ data: await signalsMetadata(c.env.DB, scope) }, 200);
  });
}
