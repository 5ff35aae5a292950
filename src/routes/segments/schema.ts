import { z } from "@hono/zod-openapi";
import { segmentKinds } from "../../db/schema";
import { Conditions } from "../../services/customer-filters";
import { Customer } from "../customers/schema";
import { DisplayName, pagedList, Timestamp } from "../schemas";

export const Segment = z
  .object({
    id: z.string(),
    project_id: z.string(),
    name: z.string(),
    kind: z.enum(segmentKinds),
    description: z.string().nullable(),
    size: z.number().int(),
    centroid: z
      .record(z.string(), z.number())
      .nullable()
      .openapi({ description: "Cluster segments: the members' mean recency_days, frequency, monetary and return_rate" }),
    rules: Conditions.nullable(),
    cluster_segment_id: z.string().nullable(),
    cluster_segment_missing: z.boolean().openapi({
      description: "Hybrid segments: a model run no longer found the cluster it narrows, so it has no members (size 0) until deleted or recreated on another cluster",
    }),
    last_computed_at: Timestamp.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Segment");

export const SegmentList = pagedList("segments", Segment).openapi("SegmentList");

export const SegmentIdParam = z.object({
  segmentId: z.string().min(1).max(64).openapi({ param: { name: "segmentId", in: "path" } }),
});

export const PreviewBody = z
  .object({
    rules: Conditions,
    cluster_segment_id: z.string().min(1).max(64).nullable().optional().openapi({ description: "Narrow a cluster segment (a hybrid segment)" }),
  })
  .strict()
  .openapi("SegmentPreviewRequest");

export const Preview = z.object({ count: z.number().int(), sample: z.array(Customer) }).openapi("SegmentPreview");

export const CreateSegmentBody = PreviewBody.extend({
  name: DisplayName(),
  description: z.string().max(500).optional(),
})
  .strict()
  .openapi("CreateSegmentRequest");

export const UpdateSegmentBody = z
  .object({ name: DisplayName().optional(), rules: Conditions.optional(), description: z.string().max(500).nullable().optional() })
  .strict()
  .refine((b) => b.name !== undefined || b.rules !== undefined || b.description !== undefined, "give name, rules or description")
  .openapi("UpdateSegmentRequest");
