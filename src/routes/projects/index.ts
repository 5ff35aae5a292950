import { createRouter } from "../router";
import { registerCreateProject } from "./create";
import { registerDeleteProject } from "./delete";
import { registerGetProject } from "./get";
import { registerListProjects } from "./list";
import { registerRenameProject } from "./rename";

/** Mounted at /api: projects live both under their organization and at /api/projects/:projectId. */
export function projectRoutes() {
  const app = createRouter();
  registerCreateProject(app);
  registerListProjects(app);
  registerGetProject(app);
  registerRenameProject(app);
  registerDeleteProject(app);
  return app;
}
