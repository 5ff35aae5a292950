import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../src/env";
import { activityCells, type ActivityCell } from "../src/crm/activity";
import { cohortCells, type CohortCell } from "../src/crm/cohorts";
import type { CrmCondition } from "../src/crm/conditions";
import { lifecycleCells, type LifecycleCell } from "../src/crm/lifecycles";
import { createLogTables, loadLog, saveDimensions, saveLog } from "../src/crm/log-storage";
import type { Interval } from "../src/crm/periods";
import type { Dimension, PurchaseLog } from "../src/crm/purchase-log";
import { purchasesVersion, readDimension, readPurchaseLog } from "../src/crm/read";

/** Dimension columns kept per log; the least recently used goes first. */
const MAX_DIMENSIONS = 8;
/** Reads of the log per request before answering from what was read (the data keeps changing). */
const MAX_READS = 3;

/** What a PurchaseHistory holds: the version, its lines, and where they were read from. */
export type HistoryState = { version: number; lines: number; source: "storage" | "d1" };

/**
 * One project's purchase history in memory, for CRM analytics (named by the project id). It reads
 * the project's purchase lines from D1 once and answers every activity, cohort and lifecycle
 * question from them until projects.purchases_version moves past the version it read (migration
 * 0005's triggers bump it on every change to the project's transactions). What it read is also kept
 * in its own storage, so after an eviction it comes back from there rather than from D1. Being one
 * object per project, a cold read happens once however many requests arrive together.
 */
export class PurchaseHistory extends DurableObject<Bindings> {
  private log: PurchaseLog | null = null;
  private source: HistoryState["source"] = "d1";
  private reading: Promise<PurchaseLog> | null = null;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    createLogTables(ctx.storage.sql);
  }

  async activity(projectId: string, version: number, interval: Interval, groupBy: string | null, conditions: CrmCondition[]): Promise<ActivityCell[]> {
    for (let attempt = 1; ; attempt++) {
      const log = await this.current(projectId, version);
      const dimension = groupBy === null ? null : await this.dimension(projectId, log, groupBy);
      if (groupBy === null || dimension) return activityCells(log, interval, dimension, conditions);
      // The lines changed while the dimension was read: read both again.
      if (attempt === MAX_READS) throw new Error("the purchases kept changing while being read");
      version = log.version + 1;
    }
  }

  async cohorts(projectId: string, version: number, interval: "week" | "month", userType: "new" | "active"): Promise<CohortCell[]> {
    return cohortCells(await this.current(projectId, version), interval, userType);
  }

  async lifecycles(
    projectId: string,
    version: number,
    interval: "week" | "month",
    periodStarts: number[],
    thresholds: { dormantAfterDays: number; lapsedAfterDays: number },
  ): Promise<LifecycleCell[]> {
    return lifecycleCells(await this.current(projectId, version), interval, periodStarts, thresholds);
  }

  /**
   * Brings the history up to date ahead of the first question (after ingest), with the dimensions
   * asked for before, and says where the lines came from.
   */
  async warm(projectId: string): Promise<HistoryState> {
    const keys = [...(this.restored()?.dimensions.keys() ?? [])];
    const log = await this.current(projectId, await purchasesVersion(this.env.DB, projectId));
    const source = this.source;
    for (const key of keys) await this.dimension(projectId, log, key);
    return { version: log.version, lines: log.day.length, source };
  }

  /** Forgets everything (the project was deleted). */
  async forget(): Promise<void> {
    this.log = null;
    await this.ctx.storage.deleteAll();
    createLogTables(this.ctx.storage.sql);
  }

  /** The log in memory, or else the one in storage. */
  private restored(): PurchaseLog | null {
    if (!this.log) {
      this.log = loadLog(this.ctx.storage.sql);
      this.source = "storage";
    }
    return this.log;
  }

  /** The log at `version` or later; one read at a time, shared by the requests waiting for it. */
  private async current(projectId: string, version: number): Promise<PurchaseLog> {
    if (this.log && this.log.version >= version) return this.log;
    this.restored();
    for (let attempt = 1; !this.log || this.log.version < version; attempt++) {
      this.reading ??= this.readFromD1(projectId).finally(() => (this.reading = null));
      const log = await this.reading;
      if (!this.log || log.version > this.log.version) {
        this.log = log;
        this.source = "d1";
      }
      // A read that began before the version moved answers the requests that started before it did.
      if (attempt === MAX_READS) break;
    }
    return this.log!;
  }

  private async readFromD1(projectId: string): Promise<PurchaseLog> {
    const log = await timed("purchase log read", projectId, () => readPurchaseLog(this.env.DB, projectId), (l) => ({ lines: l.day.length, version: l.version }));
    saveLog(this.ctx.storage, log);
    return log;
  }

  private async dimension(projectId: string, log: PurchaseLog, key: string): Promise<Dimension | null> {
    const known = log.dimensions.get(key);
    if (known) {
      log.dimensions.delete(key);
      log.dimensions.set(key, known);
      return known;
    }
    const dimension = await timed("purchase dimension read", projectId, () => readDimension(this.env.DB, projectId, log, key), (d) => ({ key, values: d?.values.length ?? null }));
    if (!dimension) return null;
    log.dimensions.set(key, dimension);
    if (log.dimensions.size > MAX_DIMENSIONS) log.dimensions.delete(log.dimensions.keys().next().value!);
    // Only while it is still the current log: a newer one has replaced what is stored.
    if (log === this.log) saveDimensions(this.ctx.storage, log, key);
    return dimension;
  }
}

/** Runs a read and logs how long it took: cold reads are the one slow path of CRM analytics. */
async function timed<T>(message: string, projectId: string, read: () => Promise<T>, describe: (result: T) => Record<string, unknown>): Promise<T> {
  const started = Date.now();
  const result = await read();
  console.log(JSON.stringify({ level: "info", message, projectId, ms: Date.now() - started, ...describe(result) }));
  return result;
}
