import type { Bindings } from "../env";
import { handleActivationsBatch, handleActivationsDeadLetters } from "./activations";
import { handleIngestBatch, handleIngestDeadLetters } from "./ingest";
import { handleSegmentationBatch, handleSegmentationDeadLetters } from "./segmentation";

/** The Worker's queue handler: one consumer per queue, chosen by the batch's queue name. */
export async function handleQueue(batch: MessageBatch<unknown>, env: Bindings, ctx: ExecutionContext) {
  switch (batch.queue) {
    case "segmento-ingest":
      return handleIngestBatch(batch, env);
    case "segmento-ingest-dlq":
      return handleIngestDeadLetters(batch, env);
    case "segmento-segmentation":
      return handleSegmentationBatch(batch, env, ctx);
    case "segmento-segmentation-dlq":
      return handleSegmentationDeadLetters(batch, env);
    case "segmento-activations":
      return handleActivationsBatch(batch, env);
    case "segmento-activations-dlq":
      return handleActivationsDeadLetters(batch, env);
    default:
      console.error(JSON.stringify({ level: "error", message: "no consumer for queue", queue: batch.queue }));
      // Retried, so nothing is lost while a consumer is missing.
      batch.retryAll();
  }
}
