import type { Bindings } from "../env";
import { deadLetterChunk, deadLetterPlan, deliverChunk, planRun } from "../services/automation-runs";
import { consumeDeadLetters, consumeEach } from "./consumer";
import { ActivationMessage } from "./messages";

/**
 * Plans runs and delivers their chunks, the messages of a batch at once (deliveries wait on the
 * network; each chunk is claimed, so they cannot overlap). A failed attempt is noted on the chunk by
 * the service itself.
 */
export async function handleActivationsBatch(batch: MessageBatch<unknown>, env: Bindings) {
  await consumeEach(
    batch,
    ActivationMessage,
    (message) => (message.kind === "activation_plan" ? planRun(env, message.runId) : deliverChunk(env, message.runId, message.chunk)),
    async () => undefined,
    { concurrent: true },
  );
}

/** Out of retries: a chunk ends failed with its last error (the run ends partial or failed); a plan ends the run failed. */
export async function handleActivationsDeadLetters(batch: MessageBatch<unknown>, env: Bindings) {
  await consumeDeadLetters(batch, ActivationMessage, (message) =>
    message.kind === "activation_plan" ? deadLetterPlan(env, message.runId) : deadLetterChunk(env, message.runId, message.chunk),
  );
}
