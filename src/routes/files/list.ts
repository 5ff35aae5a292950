import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { listFiles, publicFile } from "../../services/files";
import { projectForPrincipal } from "../../services/access";
import { auth, type Router } from "../router";
import { jsonResponse, PageQuery, ProjectIdParam } from "../schemas";
import { DataFileList } from "./schema";

const route = createRoute({
  method: "get",
  path: "/projects/{projectId}/files",
  operationId: "listFiles",
  tags: ["Files"],
  summary: "A project's files (uploads and ingest batches)",
  ...auth.sessionOrApiKey(),
  request: { params: ProjectIdParam, query: PageQuery },
  responses: { 200: jsonResponse(DataFileList, "Files, newest first"), ...authErrorResponses },
});

export function registerListFiles(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId);
    const page = await listFiles(db, project.id, c.req.valid("query"));
    return c.json({ files: page.items.map(publicFile), total: page.total, page: page.page, pages: page.pages }, 200);
  });
}
