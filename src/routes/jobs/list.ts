import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { listProjectJobs } from "../../services/jobs";
import { projectForPrincipal } from "../../services/access";
import { auth, type Router } from "../router";
import { jsonResponse, ProjectIdParam } from "../schemas";
import { ProjectJobPage, ProjectJobsQuery } from "./schema";

const route = createRoute({
  method: "get",
  path: "/projects/{projectId}/jobs",
  operationId: "listProjectJobs",
  tags: ["Jobs"],
  summary: "A project's jobs, newest first",
  description:
    "Ingest and model-run (`segmentation`) jobs with their status, times and error, paged; filter by `type` or `status`. " +
    "A model run refused because the month's runs are used up shows here as a failed `segmentation` job (or on the ingest job's `result.model_run`).",
  ...auth.sessionOrApiKey(),
  request: { params: ProjectIdParam, query: ProjectJobsQuery },
  responses: { 200: jsonResponse(ProjectJobPage, "A page of jobs"), ...authErrorResponses },
});

export function registerListProjectJobs(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId);
    return c.json(await listProjectJobs(db, project.id, c.req.valid("query")), 200);
  });
}
