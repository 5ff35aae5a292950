import { z } from "zod";

/** Queue message bodies: references to rows in D1 and objects in R2, never the records themselves. */
export const IngestMessage = z.object({
  kind: z.literal("ingest"),
  jobId: z.string().min(1),
  fileId: z.string().min(1),
  projectId: z.string().min(1),
  organizationId: z.string().min(1),
});
export type IngestMessage = z.infer<typeof IngestMessage>;

export const SegmentationMessage = z.object({
  kind: z.literal("segmentation"),
  jobId: z.string().min(1),
  projectId: z.string().min(1),
  organizationId: z.string().min(1),
});
export type SegmentationMessage = z.infer<typeof SegmentationMessage>;

/** An automation run: first planned (members split and chunked), then delivered chunk by chunk. */
export const ActivationMessage = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("activation_plan"), runId: z.string().min(1) }),
  z.object({ kind: z.literal("activation_chunk"), runId: z.string().min(1), chunk: z.number().int().min(0) }),
]);
export type ActivationMessage = z.infer<typeof ActivationMessage>;
