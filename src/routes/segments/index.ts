import { createRouter } from "../router";
import { registerCreateSegment } from "./create";
import { registerDeleteSegment } from "./delete";
import { registerGetSegment } from "./get";
import { registerListSegments } from "./list";
import { registerPreviewSegment } from "./preview";
import { registerUpdateSegment } from "./update";

/** Mounted at /api/engine. */
export function segmentRoutes() {
  const app = createRouter();
  registerListSegments(app);
  registerPreviewSegment(app);
  registerCreateSegment(app);
  registerGetSegment(app);
  registerUpdateSegment(app);
  registerDeleteSegment(app);
  return app;
}
