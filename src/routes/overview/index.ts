import { createRouter } from "../router";
import { registerProjectOverview } from "./get";

/** Mounted at /api/engine. */
export function overviewRoutes() {
  const app = createRouter();
  registerProjectOverview(app);
  return app;
}
