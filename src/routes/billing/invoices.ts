import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { listInvoices } from "../../services/billing";
import { auth, type Router } from "../router";
import { jsonResponse, OrganizationIdParam } from "../schemas";
import { managedOrganization } from "./manager";
import { InvoiceList, InvoicesQuery, stripeUnavailable } from "./schema";

const route = createRoute({
  method: "get",
  path: "/{orgId}/invoices",
  operationId: "listInvoices",
  tags: ["Billing"],
  summary: "Stripe invoice history, newest first",
  description: "Owners and admins. Amounts in the currency's smallest unit; `hosted_invoice_url` and `invoice_pdf` link to Stripe. Page with `limit` and `starting_after` = the previous page's `next_cursor`.",
  ...auth.session(),
  request: { params: OrganizationIdParam, query: InvoicesQuery },
  responses: {
    200: jsonResponse(InvoiceList, "A page of invoices"),
    ...stripeUnavailable,
    ...authErrorResponses,
  },
});

export function registerListInvoices(app: Router) {
  app.openapi(route, async (c) => {
    const { db, organization } = await managedOrganization(c, c.req.valid("param").orgId);
    return c.json(await listInvoices(c.env, db, organization.id, c.req.valid("query")), 200);
  });
}
