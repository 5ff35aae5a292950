import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { fileForPrincipal, publicFile } from "../../services/files";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { DataFile, FileIdParam } from "./schema";

const route = createRoute({
  method: "get",
  path: "/files/{fileId}",
  operationId: "getFile",
  tags: ["Files"],
  summary: "One file",
  ...auth.sessionOrApiKey(),
  request: { params: FileIdParam },
  responses: { 200: jsonResponse(DataFile, "The file"), ...authErrorResponses },
});

export function registerGetFile(app: Router) {
  app.openapi(route, async (c) => {
    const file = await fileForPrincipal(database(c.env.DB), principalOf(c), c.req.valid("param").fileId);
    return c.json(publicFile(file), 200);
  });
}
