/** Every per-organization billing operation with a valid body: [method, path after /api/organizations/:orgId/, body]. */
export const billingOperations = [
  ["GET", "subscription"],
  ["POST", "checkout", { plan: "pro", interval: "monthly" }],
  ["POST", "subscribe-free"],
  ["POST", "cancel-subscription"],
  ["POST", "sync-subscription"],
  ["POST", "billing-portal"],
  ["GET", "billing"],
  ["PUT", "billing", { name: "x" }],
  ["GET", "invoices"],
  ["GET", "payment-methods"],
  ["GET", "usage"],
] as const;
