import { createRouter } from "../router";
import { registerGetCustomer } from "./get";
import { registerListCustomers } from "./list";
import { registerSimilarCustomers } from "./similar";

/** Mounted at /api/engine. */
export function customerRoutes() {
  const app = createRouter();
  registerListCustomers(app);
  registerGetCustomer(app);
  registerSimilarCustomers(app);
  return app;
}
