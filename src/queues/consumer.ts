import type { z } from "zod";

export const retryDelaySeconds = (attempts: number) => Math.min(300, 5 * 2 ** (attempts - 1));

/** A failure that knows when to try again (e.g. a provider's Retry-After), instead of the default backoff. */
export class RetryLater extends Error {
  constructor(
    message: string,
    readonly delaySeconds: number,
  ) {
    super(message);
  }
}

/**
 * Runs each message of a batch on its own: valid bodies go to `process` and are acked when it
 * returns; a throw retries that message alone with exponential backoff (after the queue's last retry
 * it lands in the dead-letter queue). A body that fails validation can never succeed: it is retried
 * too, so it reaches the dead-letter queue and its log instead of vanishing. With `concurrent`, the
 * messages of a batch run at the same time (for work that waits on the network, such as deliveries).
 */
export async function consumeEach<Schema extends z.ZodType>(
  batch: MessageBatch<unknown>,
  schema: Schema,
  process: (body: z.infer<Schema>) => Promise<void>,
  onAttemptFailed: (body: z.infer<Schema>, error: unknown) => Promise<void>,
  { concurrent = false } = {},
) {
  const handle = async (message: Message<unknown>) => {
    const parsed = schema.safeParse(message.body);
    if (!parsed.success) {
      console.error(JSON.stringify({ level: "error", queue: batch.queue, message: "invalid message body", id: message.id }));
      message.retry();
      return;
    }
    try {
      await process(parsed.data);
      message.ack();
    } catch (error) {
      console.error(JSON.stringify({ level: "error", queue: batch.queue, id: message.id, attempt: message.attempts, error: errorText(error) }));
      await onAttemptFailed(parsed.data, error).catch(() => undefined);
      message.retry({ delaySeconds: error instanceof RetryLater ? error.delaySeconds : retryDelaySeconds(message.attempts) });
    }
  };
  if (concurrent) await Promise.all(batch.messages.map(handle));
  else for (const message of batch.messages) await handle(message);
}

/** Dead letters: valid ones are handed to `finish` (which ends their job as failed); the rest are logged. */
export async function consumeDeadLetters<Schema extends z.ZodType>(batch: MessageBatch<unknown>, schema: Schema, finish: (body: z.infer<Schema>) => Promise<void>) {
  for (const message of batch.messages) {
    const parsed = schema.safeParse(message.body);
    if (!parsed.success) {
      console.error(JSON.stringify({ level: "error", queue: batch.queue, message: "dropping invalid dead-lettered message", body: safeJson(message.body) }));
      message.ack();
      continue;
    }
    await finish(parsed.data);
    message.ack();
  }
}

/**
 * Errors that retrying cannot fix: the database refuses the value or the statement itself. Anything
 * else (network, overload, timeouts) is taken as transient.
 */
export function isPermanentError(error: unknown): boolean {
  return /SQLITE_(TOOBIG|CONSTRAINT|MISMATCH|RANGE|ERROR)|string or blob too big|too many SQL variables/.test(errorText(error));
}

/**
 * What a job shows while an attempt is retried: never the driver's words, SQL or a stack (those go
 * to the log).
 */
export const publicAttemptError = (error: unknown) =>
  isPermanentError(error) ? "an internal error that retrying cannot fix" : "a temporary error interrupted the job; it is retried with backoff";

/**
 * An error's message with its causes' (for the log and for `isPermanentError`): drizzle wraps the
 * driver's error in one whose message is only the failed query, with the driver's words in `cause`.
 */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(" ← caused by: ").slice(0, 1000);
}

function safeJson(value: unknown) {
  try {
    return JSON.stringify(value).slice(0, 500);
  } catch {
    return String(value);
  }
}
