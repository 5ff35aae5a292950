import { DurableObject } from "cloudflare:workers";

export type RateLimitDecision = {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** seconds until the current window ends and the count starts over */
  resetSeconds: number;
};

type WindowState = { startedAt: number; endsAt: number; count: number };

const STATE_KEY = "window";

/**
 * One fixed-window counter per caller (named by a hash of its Authorization value or IP). A Durable
 * Object handles its requests one at a time, so counts are exact, which the per-location Workers
 * rate-limit binding is not. State is kept in storage so an evicted object resumes its window.
 */
export class RateLimitBucket extends DurableObject {
  hit(limit: number, windowSeconds: number, now = Date.now()): RateLimitDecision {
    const windowMs = windowSeconds * 1000;
    let state = this.ctx.storage.kv.get<WindowState>(STATE_KEY);
    if (!state || now >= state.endsAt) {
      state = { startedAt: now, endsAt: now + windowMs, count: 0 };
      // Clean up once the window is over, so idle callers leave nothing behind.
      void this.ctx.storage.setAlarm(state.endsAt);
    }
    const allowed = state.count < limit;
    if (allowed) {
      state.count += 1;
      this.ctx.storage.kv.put(STATE_KEY, state);
    }
    return {
      allowed,
      limit,
      remaining: Math.max(0, limit - state.count),
      resetSeconds: Math.max(1, Math.ceil((state.endsAt - now) / 1000)),
    };
  }

  override async alarm(): Promise<void> {
    const state = this.ctx.storage.kv.get<WindowState>(STATE_KEY);
    // A window still running keeps its count, and is cleaned up when it ends.
    if (state && Date.now() < state.endsAt) {
      await this.ctx.storage.setAlarm(state.endsAt);
      return;
    }
    await this.ctx.storage.deleteAll();
  }
}
