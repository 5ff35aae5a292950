import { createRouter } from "../router";
import { registerDeleteFile } from "./delete";
import { registerGetFile } from "./get";
import { registerListFiles } from "./list";
import { registerUploadFile } from "./upload";

/** Mounted at /api/engine. */
export function fileRoutes() {
  const app = createRouter();
  registerUploadFile(app);
  registerListFiles(app);
  registerGetFile(app);
  registerDeleteFile(app);
  return app;
}
