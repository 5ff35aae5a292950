import { DurableObject } from "cloudflare:workers";

/** What a caller asks of its bucket: one request now, and optionally a lease of more to spend locally. */
export type AcquireRequest = {
  limit: number;
  windowMs: number;
  /** units the caller spends at once, on the request that asked (0 or 1) */
  now: number;
  /** units wanted on lease, to spend locally within `leaseMs` of asking */
  lease: number;
  leaseMs: number;
  /** units of an earlier lease that were never spent, given back */
  returned?: { leaseId: number; units: number };
};

export type Grant = {
  /** units granted for immediate use (the request that asked is admitted when this is `now`) */
  granted: number;
  /** the id the units granted for immediate use are logged under, to `release` them by */
  grantId: number | null;
  /** units granted on lease (0 when none), and the id to return unspent ones under */
  leased: number;
  leaseId: number | null;
  limit: number;
  /** units still available to anyone after this grant */
  remaining: number;
  /** ms until one more unit is available (0 while `remaining` > 0) */
  retryInMs: number;
};

/**
 * A lease never takes more than this share of what is left, so units held by one isolate (spent or
 * stranded when it goes away) are a small part of a caller's allowance, and a nearly used-up bucket
 * is handed out one request at a time.
 */
const LEASE_SHARE = 10;

type Entry = { id: number; at: number; units: number };

/** The window of the latest grant, for the alarm to know when the log stops counting. */
const WINDOW_KEY = "windowMs";

/**
 * An exact sliding-window limiter for one caller (an API key, a session, a client IP, an email's
 * failed sign-ins). It keeps a log of the units it granted, each at the time it counts from, in its
 * own SQLite storage, and grants a unit only while fewer than `limit` units are logged in the last
 * `windowMs`: no window-long span ever admits more than the limit, unlike a fixed window, which lets
 * twice the limit through around its reset.
 *
 * A unit spent at once is logged at the grant. A leased unit may be spent any time until the lease
 * ends, so it is logged at the lease's end: it counts for at least as long as it would at its real
 * time, which keeps the bound exact whoever spends it and when (see README, "Rate limits").
 * A Durable Object runs one call at a time, so check-then-record needs no lock.
 */
export class RateLimitBucket extends DurableObject {
  private entries: Entry[];
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    this.entries = this.load();
    this.adoptFixedWindow();
  }

  acquire(request: AcquireRequest, nowMs = Date.now()): Grant {
    if (request.returned) this.giveBack(request.returned);
    this.prune(nowMs - request.windowMs);
    const available = Math.max(0, request.limit - this.counted());
    const granted = Math.min(request.now, available);
    // Leases only come with an admitted request, and never take the last units of a bucket.
    const leased = granted > 0 ? Math.min(request.lease, Math.floor((available - granted) / LEASE_SHARE)) : 0;
    const grantId = granted > 0 ? this.record(nowMs, granted, request.windowMs) : null;
    const leaseId = leased > 0 ? this.record(nowMs + request.leaseMs, leased, request.windowMs) : null;
    const remaining = available - granted - leased;
    return {
      granted,
      grantId,
      leased,
      leaseId,
      limit: request.limit,
      remaining,
      retryInMs: remaining > 0 ? 0 : this.msUntilFree(request.limit, request.windowMs, nowMs),
    };
  }

  /** Gives back units granted but not used (a sign-in that turned out not to be a failure). */
  release(grantId: number, units: number): void {
    this.giveBack({ leaseId: grantId, units });
  }

  override async alarm(): Promise<void> {
    const windowMs = this.ctx.storage.kv.get<number>(WINDOW_KEY) ?? 0;
    let cleanUpAt = 0;
    for (const entry of this.entries) cleanUpAt = Math.max(cleanUpAt, entry.at + windowMs);
    this.alarmAt = null;
    // An entry granted since the alarm was set still counts: clean up when it stops counting.
    if (cleanUpAt > Date.now()) return this.cleanUpAt(cleanUpAt);
    await this.ctx.storage.deleteAll();
    this.entries = this.load();
  }

  private load(): Entry[] {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS grants (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, units INTEGER NOT NULL)");
    return sql.exec<Entry>("SELECT id, at, units FROM grants").toArray();
  }

  private cleanUpAt(at: number) {
    if (this.alarmAt !== null && this.alarmAt >= at) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  private counted(): number {
    let total = 0;
    for (const entry of this.entries) total += entry.units;
    return total;
  }

  /** Drops entries that no longer count (logged at or before `since`). */
  private prune(since: number) {
    if (!this.entries.some((entry) => entry.at <= since)) return;
    this.ctx.storage.sql.exec("DELETE FROM grants WHERE at <= ?", since);
    this.entries = this.entries.filter((entry) => entry.at > since);
  }

  private record(at: number, units: number, windowMs: number): number {
    const { id } = this.ctx.storage.sql.exec<{ id: number }>("INSERT INTO grants (at, units) VALUES (?, ?) RETURNING id", at, units).one();
    this.entries.push({ id, at, units });
    // The alarm cleans up once the newest entry has left the window, so idle callers leave nothing behind.
    if (this.ctx.storage.kv.get<number>(WINDOW_KEY) !== windowMs) this.ctx.storage.kv.put(WINDOW_KEY, windowMs);
    this.cleanUpAt(at + windowMs);
    return id;
  }

  private giveBack({ leaseId, units }: { leaseId: number; units: number }) {
    const entry = this.entries.find((candidate) => candidate.id === leaseId);
    if (!entry || units <= 0) return;
    entry.units = Math.max(0, entry.units - units);
    this.ctx.storage.sql.exec("UPDATE grants SET units = ? WHERE id = ?", entry.units, entry.id);
  }

  /** When enough of the oldest entries have left the window for one more unit to fit. */
  private msUntilFree(limit: number, windowMs: number, nowMs: number): number {
    let excess = this.counted() + 1 - limit;
    const oldestFirst = [...this.entries].sort((a, b) => a.at - b.at);
    for (const entry of oldestFirst) {
      excess -= entry.units;
      if (excess <= 0) return Math.max(1, entry.at + windowMs - nowMs);
    }
    return 1;
  }

  /**
   * Buckets written by the earlier fixed-window version kept `{ endsAt, count }` under "window": its
   * count is carried over as granted now (conservatively late), so a deploy admits no extra requests.
   */
  private adoptFixedWindow() {
    const old = this.ctx.storage.kv.get<{ startedAt: number; endsAt: number; count: number }>("window");
    if (!old) return;
    this.ctx.storage.kv.delete("window");
    const now = Date.now();
    if (old.endsAt > now && old.count > 0) this.record(now, old.count, old.endsAt - old.startedAt);
  }
}
