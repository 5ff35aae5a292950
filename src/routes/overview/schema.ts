import { z } from "@hono/zod-openapi";
import { Timestamp } from "../schemas";

export const Overview = z
  .object({
    project_id: z.string(),
    state: z.enum(["empty", "not_modelled", "modelled"]).openapi({ description: "empty: no customers yet; not_modelled: customers but no completed segmentation run" }),
    customers: z.object({ total: z.number().int(), profiled: z.number().int() }),
    revenue: z.object({ total: z.number(), average_per_customer: z.number().nullable() }),
    churn: z.object({
      average_score: z.number().nullable(),
      distribution: z.object({ low: z.number().int(), medium: z.number().int(), high: z.number().int(), unscored: z.number().int() }),
    }),
    abc: z.record(z.enum(["A", "B", "C"]), z.object({ customers: z.number().int(), revenue_share: z.number() })),
    segments: z.array(z.object({ id: z.string(), name: z.string(), kind: z.string(), size: z.number().int(), share: z.number() })),
    churn_model: z
      .object({ r: z.number(), alpha: z.number(), a: z.number(), b: z.number(), log_likelihood: z.number(), time_unit: z.literal("week") })
      .nullable()
      .openapi({ description: "The BG/NBD parameters of the last run (time in weeks)" }),
    uplift: z
      .object({
        treated: z.number().int(),
        control: z.number().int(),
        treated_conversion: z.number().nullable(),
        control_conversion: z.number().nullable(),
        observed_lift: z.number().nullable(),
        min_group: z.number().int(),
      })
      .openapi({ description: "Automation outcomes whose window has closed: treated vs control customers, purchase rates and the observed lift; uplift_score is fitted once each group has min_group" }),
    last_run: z
      .object({
        job_id: z.string(),
        status: z.string(),
        finished_at: Timestamp.nullable(),
        k: z.number().int().nullable(),
        reference_date: Timestamp.nullable(),
        churn_note: z.string().nullable(),
      })
      .nullable(),
  })
  .openapi("ProjectOverview");

export type ProjectOverview = z.infer<typeof Overview>;
