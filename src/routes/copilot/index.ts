import { createRouter } from "../router";
import { registerAskCopilot } from "./ask";

/** Mounted at /api/engine. */
export function copilotRoutes() {
  const app = createRouter();
  registerAskCopilot(app);
  return app;
}
