import { createRouter } from "../router";
import { registerBillingPortal } from "./billing-portal";
import { registerCancelSubscription } from "./cancel-subscription";
import { registerCheckout } from "./checkout";
import { registerGetBilling } from "./get-billing";
import { registerListInvoices } from "./invoices";
import { registerListPaymentMethods } from "./payment-methods";
import { registerListPlans } from "./plans";
import { registerPutBilling } from "./put-billing";
import { registerStripeWebhook } from "./stripe-webhook";
import { registerSubscribeFree } from "./subscribe-free";
import { registerGetSubscription } from "./subscription";
import { registerSyncSubscription } from "./sync-subscription";
import { registerUsage } from "./usage";

/** Mounted at /api/organizations: an organization's billing, for its owners and admins. */
export function billingRoutes() {
  const app = createRouter();
  registerGetSubscription(app);
  registerCheckout(app);
  registerSubscribeFree(app);
  registerCancelSubscription(app);
  registerSyncSubscription(app);
  registerBillingPortal(app);
  registerGetBilling(app);
  registerPutBilling(app);
  registerListInvoices(app);
  registerListPaymentMethods(app);
  registerUsage(app);
  return app;
}

/** Mounted at /api/plans (public). */
export function planRoutes() {
  const app = createRouter();
  registerListPlans(app);
  return app;
}

/** Mounted at /api/webhooks (public; each verifies its own signature). */
export function webhookRoutes() {
  const app = createRouter();
  registerStripeWebhook(app);
  return app;
}
