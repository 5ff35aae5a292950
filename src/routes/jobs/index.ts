import { createRouter } from "../router";
import { registerListProjectJobs } from "./list";
import { registerJobProgress } from "./progress";
import { registerJobStatus } from "./status";
import { registerJobProgressStream } from "./stream";

/** Mounted at /api/engine. */
export function jobRoutes() {
  const app = createRouter();
  registerListProjectJobs(app);
  registerJobStatus(app);
  registerJobProgress(app);
  registerJobProgressStream(app);
  return app;
}
