import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { customerForPrincipal, publicCustomer } from "../../services/customers";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { Customer, CustomerIdParam } from "./schema";

const route = createRoute({
  method: "get",
  path: "/customers/{customerId}",
  operationId: "getCustomer",
  tags: ["Customers"],
  summary: "One customer profile",
  ...auth.sessionOrApiKey(),
  request: { params: CustomerIdParam },
  responses: { 200: jsonResponse(Customer, "The customer"), ...authErrorResponses },
});

export function registerGetCustomer(app: Router) {
  app.openapi(route, async (c) => {
    const customer = await customerForPrincipal(c.env.DB, database(c.env.DB), principalOf(c), c.req.valid("param").customerId);
    return c.json(await publicCustomer(customer), 200);
  });
}
