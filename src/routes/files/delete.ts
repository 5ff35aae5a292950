import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, errorResponse } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { deleteFile, fileForPrincipal } from "../../services/files";
import { auth, type Router } from "../router";
import { FileIdParam } from "./schema";

const route = createRoute({
  method: "delete",
  path: "/files/{fileId}",
  operationId: "deleteFile",
  tags: ["Files"],
  summary: "Delete a file and the transactions it brought",
  description: "The customers' aggregates are recomputed without its rows; customers left with none are removed.",
  ...auth.session(),
  request: { params: FileIdParam },
  responses: { 204: { description: "Deleted" }, 409: errorResponse("Still being processed (`conflict`)"), ...authErrorResponses },
});

export function registerDeleteFile(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    await deleteFile(db, c.env, await fileForPrincipal(db, principalOf(c), c.req.valid("param").fileId));
    return c.body(null, 204);
  });
}
