import { z } from "@hono/zod-openapi";
import { Conditions } from "../../services/customer-filters";
import { sortFields } from "../../services/customers";
import { Timestamp } from "../schemas";

export const Customer = z
  .object({
    id: z.string().openapi({ description: "The API's id for the customer" }),
    customer_id: z.string().openapi({ description: "Your id for the customer, as ingested" }),
    customer_id_hash: z.string().openapi({ example: "CUST_8F2A91C0", description: "A short pseudonymous handle" }),
    segment_id: z.string().nullable(),
    segment_label: z.string().nullable(),
    churn_score: z.number().nullable().openapi({ description: "1 − P(alive) from the project's BG/NBD model; null until modelled" }),
    churn_risk: z.enum(["low", "medium", "high"]).nullable().openapi({ description: "low < 0.3 ≤ medium < 0.7 ≤ high" }),
    abc_category: z.enum(["A", "B", "C"]).nullable(),
    rfm_recency_days: z.number().int().nullable(),
    rfm_frequency: z.number().int(),
    rfm_monetary: z.number(),
    return_rate: z.number(),
    uplift_score: z.number().nullable().openapi({ description: "Null until a campaign of the project has outcomes" }),
    expected_purchases_90d: z.number().nullable(),
    first_purchase_at: Timestamp.nullable(),
    last_transaction_at: Timestamp,
    extra_features: z.record(z.string(), z.unknown()),
    profiled_at: Timestamp.nullable(),
  })
  .openapi("Customer");

export const CustomerPage = z
  .object({ customers: z.array(Customer), total: z.number().int(), page: z.number().int(), pages: z.number().int() })
  .openapi("CustomerPage");

const sortKeys = Object.keys(sortFields) as [keyof typeof sortFields, ...Array<keyof typeof sortFields>];

export const CustomerQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  sort_by: z.enum(sortKeys).default("rfm_monetary"),
  sort_dir: z.enum(["asc", "desc"]).default("desc"),
  churn_risk: z.enum(["low", "medium", "high"]).optional(),
  abc_category: z.enum(["A", "B", "C"]).optional(),
  segment_id: z.string().min(1).max(64).optional().openapi({ description: "Members of any segment: cluster, rule or hybrid" }),
  filters: z
    .string()
    .max(10_000)
    .optional()
    .openapi({ description: 'JSON array of conditions, e.g. `[{"field":"rfm_monetary","op":"range","min":1000}]`' }),
});

export const CustomerIdParam = z.object({
  customerId: z.string().min(1).max(64).openapi({ param: { name: "customerId", in: "path" }, description: "The API's customer id (`id`)" }),
});

export const SimilarQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(10) });

export const SimilarCustomers = z
  .object({
    customer: Customer,
    similar: z.array(Customer.extend({ similarity: z.number().openapi({ description: "Cosine similarity of the embeddings, −1 to 1" }) })),
    features: z.array(z.string()).openapi({ description: "What the embedding is made of" }),
  })
  .openapi("SimilarCustomers");

export { Conditions };
