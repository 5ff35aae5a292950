import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { customerForPrincipal, similarCustomers } from "../../services/customers";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { CustomerIdParam, SimilarCustomers, SimilarQuery } from "./schema";

const route = createRoute({
  method: "get",
  path: "/customers/{customerId}/similar",
  operationId: "listSimilarCustomers",
  tags: ["Customers"],
  summary: "The most similar customers of the same project",
  description: "Cosine nearest neighbours of the customer's embedding (standardized RFM, churn score and numeric extra features). Empty until the project has been modelled.",
  ...auth.sessionOrApiKey(),
  request: { params: CustomerIdParam, query: SimilarQuery },
  responses: { 200: jsonResponse(SimilarCustomers, "Neighbours, most similar first"), ...authErrorResponses },
});

export function registerSimilarCustomers(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const customer = await customerForPrincipal(c.env.DB, db, principalOf(c), c.req.valid("param").customerId);
    return c.json(await similarCustomers(c.env, db, customer, c.req.valid("query").limit), 200);
  });
}
