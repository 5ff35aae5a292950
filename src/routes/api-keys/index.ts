import { createRouter } from "../router";
import { registerCreateApiKey } from "./create";
import { registerDeleteApiKey } from "./delete";
import { registerListApiKeys } from "./list";
import { registerUpdateApiKey } from "./update";

export function apiKeyRoutes() {
  const app = createRouter();
  registerCreateApiKey(app);
  registerListApiKeys(app);
  registerUpdateApiKey(app);
  registerDeleteApiKey(app);
  return app;
}
