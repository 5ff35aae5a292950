import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../src/env";
import { activityCells, type ActivityCell } from "../src/crm/activity";
import { cohortCells, type CohortCell } from "../src/crm/cohorts";
import type { CrmCondition } from "../src/crm/conditions";
import { lifecycleCells, type LifecycleCell } from "../src/crm/lifecycles";
import { limitOf, MAX_DIMENSIONS, type LimitKind } from "../src/crm/limits";
import { createLogTables, loadLog, saveDimensions, saveLog, storedDimensionKeys } from "../src/crm/log-storage";
import type { Interval } from "../src/crm/periods";
import { PurchaseLogBuilder, type Dimension, type PurchaseLog } from "../src/crm/purchase-log";
import { purchasesVersion, readDimension, readPurchaseLog, refreshPurchaseLog } from "../src/crm/read";

/**
 * An answer, or the CRM limit that stopped it. A limit is returned, not thrown: an exception leaving
 * an RPC method is reported by workerd as an unhandled rejection even when the caller catches it.
 */
export type CrmAnswer<T> = { cells: T[] } | { limit: { kind: LimitKind; detail: string } };

async function answer<T>(compute: () => Promise<T[]>): Promise<CrmAnswer<T>> {
  try {
    return { cells: await compute() };
  } catch (error) {
    const limit = limitOf(error);
    if (!limit) throw error;
    return { limit };
  }
}

/**
 * What a PurchaseHistory holds: the version, its lines, and where they were read from ("changes":
 * only the customers whose lines changed were read from D1).
 */
export type HistoryState = { version: number; lines: number; source: "storage" | "d1" | "changes" };

/**
 * One project's purchase history in memory, for CRM analytics (named by the project id). It reads
 * the project's purchase lines from D1 once and answers every activity, cohort and lifecycle
 * question from them until projects.purchases_version moves past the version it read (migration
 * 0005's triggers bump it on every change to the project's transactions). What it read is also kept
 * in its own storage, so after an eviction it comes back from there rather than from D1. Refreshes
 * run one at a time, so a cold read happens once however many requests arrive together.
 */
export class PurchaseHistory extends DurableObject<Bindings> {
  private log: PurchaseLog | null = null;
  private source: HistoryState["source"] = "d1";
  /** the refresh in flight (or the last one); each request's refresh waits for it */
  private refreshing: Promise<unknown> = Promise.resolve();
  /** dimension reads in flight, by log version and key, shared by the requests asking */
  private readonly dimensionReads = new Map<string, Promise<Dimension | null>>();

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    createLogTables(ctx.storage.sql);
  }

  async activity(projectId: string, version: number, interval: Interval, groupBy: string | null, conditions: CrmCondition[]): Promise<CrmAnswer<ActivityCell>> {
    return answer(async () => {
      for (let attempt = 1; ; attempt++) {
        const log = await this.current(projectId, version);
        const dimension = groupBy === null ? null : await this.dimension(projectId, log, groupBy);
        if (groupBy === null || dimension) return activityCells(log, interval, dimension, conditions);
        // The lines changed while the dimension was read: read both again.
        if (attempt === 3) throw new Error("the purchases kept changing while being read");
        version = log.version + 1;
      }
    });
  }

  async cohorts(projectId: string, version: number, interval: "week" | "month", userType: "new" | "active"): Promise<CrmAnswer<CohortCell>> {
    return answer(async () => cohortCells(await this.current(projectId, version), interval, userType));
  }

  async lifecycles(
    projectId: string,
    version: number,
    interval: "week" | "month",
    periodStarts: number[],
    thresholds: { dormantAfterDays: number; lapsedAfterDays: number },
  ): Promise<CrmAnswer<LifecycleCell>> {
    return answer(async () => lifecycleCells(await this.current(projectId, version), interval, periodStarts, thresholds));
  }

  /**
   * Brings the history up to date ahead of the first question (after ingest), with the dimensions
   * asked for before, and says where the lines came from.
   */
  async warm(projectId: string): Promise<HistoryState> {
    const version = await purchasesVersion(this.env.DB, projectId);
    if (version === null) return { version: 0, lines: 0, source: "d1" };
    const keys = this.log ? [...this.log.dimensions.keys()] : storedDimensionKeys(this.ctx.storage.sql);
    const log = await this.current(projectId, version);
    const source = this.source;
    for (const key of keys) await this.dimension(projectId, log, key);
    return { version: log.version, lines: log.day.length, source };
  }

  /** Forgets everything (the project was deleted), after any refresh in flight. */
  async forget(): Promise<void> {
    await this.refreshing.catch(() => undefined);
    this.log = null;
    await this.ctx.storage.deleteAll();
    createLogTables(this.ctx.storage.sql);
  }

  /**
   * The log at `version` or later: from memory, else from storage; if older, brought up to date by
   * reading only the changed customers (refreshPurchaseLog), or the whole log when most changed.
   */
  private current(projectId: string, version: number): Promise<PurchaseLog> {
    const refresh = async () => {
      if (this.log && this.log.version >= version) return this.log;
      if (!this.log) {
        this.log = loadLog(this.ctx.storage.sql);
        this.source = "storage";
        if (this.log && this.log.version >= version) return this.log;
      }
      const held = this.log;
      const changed = held
        ? await timed("purchase log refresh", projectId, () => refreshPurchaseLog(this.env.DB, projectId, held), (l) => (typeof l === "object" && l ? { lines: l.day.length, version: l.version } : { outcome: l }))
        : "whole";
      let read: PurchaseLog | null;
      if (changed === "whole") {
        // The old columns go before the new ones are read: two copies of a large log would not fit.
        this.log = null;
        read = await timed("purchase log read", projectId, () => readPurchaseLog(this.env.DB, projectId), (l) => ({ lines: l?.day.length ?? null, version: l?.version ?? null }));
        this.source = "d1";
      } else {
        read = changed;
        this.source = "changes";
      }
      // A project deleted meanwhile has nothing, and nothing is stored for it.
      if (read) await timed("purchase log stored", projectId, async () => saveLog(this.ctx.storage, read), () => ({}));
      this.log = read ?? new PurchaseLogBuilder(0).build(version);
      return this.log;
    };
    const next = this.refreshing.then(refresh, refresh);
    this.refreshing = next.catch(() => undefined);
    return next;
  }

  private async dimension(projectId: string, log: PurchaseLog, key: string): Promise<Dimension | null> {
    const known = log.dimensions.get(key);
    if (known) {
      log.dimensions.delete(key);
      log.dimensions.set(key, known);
      return known;
    }
    const id = `${log.version}\u0000${key}`;
    let reading = this.dimensionReads.get(id);
    if (!reading) {
      reading = timed("purchase dimension read", projectId, () => readDimension(this.env.DB, projectId, log, key), (d) => ({ key, values: d?.values.length ?? null })).finally(() =>
        this.dimensionReads.delete(id),
      );
      this.dimensionReads.set(id, reading);
    }
    const dimension = await reading;
    if (!dimension || log.dimensions.has(key)) return dimension;
    log.dimensions.set(key, dimension);
    if (log.dimensions.size > MAX_DIMENSIONS) log.dimensions.delete(log.dimensions.keys().next().value!);
    // Only while it is still the current log: a newer one has replaced what is stored.
    if (log === this.log) saveDimensions(this.ctx.storage, log, key);
    return dimension;
  }
}

/** Runs a read (or a store) and logs how long it took: cold reads are the one slow path of CRM analytics. */
async function timed<T>(message: string, projectId: string, read: () => Promise<T>, describe: (result: T) => Record<string, unknown>): Promise<T> {
  const started = Date.now();
  const result = await read();
  console.log(JSON.stringify({ level: "info", message, projectId, ms: Date.now() - started, ...describe(result) }));
  return result;
}
