import { config, type Bindings } from "../env";
import { analyticsStore } from "./index";
import type { UsageEvent } from "./schema";

/**
 * API-request metering off the hot path: events wait in this isolate's buffer and are written in one
 * batch a moment later (METER_FLUSH_MS) by a waitUntil of the request that opened the window, so a busy
 * key costs one store write per window instead of one per request.
 */
const buffer: UsageEvent[] = [];
let flushing: Promise<void> | null = null;

export function meterRequest(env: Bindings, ctx: { waitUntil(promise: Promise<unknown>): void }, event: UsageEvent) {
  buffer.push({ ...event, timestamp: event.timestamp ?? Date.now() });
  if (flushing) return;
  flushing = drain(env, config(env).meterFlushMs)
    .catch((error) => console.error(JSON.stringify({ level: "error", message: "metering failed", error: String(error) })))
    .finally(() => {
      flushing = null;
    });
  ctx.waitUntil(flushing);
}

async function drain(env: Bindings, delayMs: number) {
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  // Events added while a batch is being written go out in the next turn of the loop.
  while (buffer.length > 0) await analyticsStore(env).record(buffer.splice(0, 500));
}
