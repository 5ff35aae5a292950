import { z } from "@hono/zod-openapi";
import { ColumnMapping } from "../../ingest/columns";

export const MAX_INGEST_RECORDS = 10_000;

export const IngestBody = z
  .object({
    project_id: z.string().min(1).max(64).openapi({ example: "proj_01JD3Q8Z5XK6W7Y8Z9A0B1C2D3" }),
    records: z
      .array(z.record(z.string().max(200), z.unknown()))
      .min(1)
      .max(MAX_INGEST_RECORDS)
      .openapi({
        description:
          "1 to 10,000 transactions. `customer_id`, `order_date` and `amount` are recognised (also under common aliases such as `CustomerID`, `InvoiceDate`, `total`); " +
          "`order_id`, `currency`, `quantity` and `returned` are optional; every other field is kept in the customer's `extra_features`.",
        example: [
          { customer_id: "C-1001", order_date: "2026-05-01", amount: 129.9, country: "TR" },
          { customer_id: "C-1002", order_date: "2026-05-02", amount: 59.0, country: "DE" },
        ],
      }),
    batch_id: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .openapi({ description: "Idempotency key: the same batch_id with the same records and mapping again in the same project returns the first job and ingests nothing twice; " +
          "a different payload under it answers 409 `conflict`; a batch whose job failed may be sent again under its id", example: "may-2026-orders" }),
    mapping: ColumnMapping.optional().openapi({
      description: "As for uploads: which field holds which column (`columns`), `date_format` for slash dates, `default_currency`",
    }),
  })
  .openapi("IngestRequest");

export const Accepted = z
  .object({
    job_id: z.string(),
    file_id: z.string().nullable(),
    status: z.enum(["queued", "processing", "completed", "failed"]),
  })
  .openapi("JobAccepted");
