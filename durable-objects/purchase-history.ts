import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../src/env";
import { activityCells, type ActivityCell } from "../src/crm/activity";
import { cohortCells, type CohortCell } from "../src/crm/cohorts";
import type { CrmCondition } from "../src/crm/conditions";
import { lifecycleCells, type LifecycleCell } from "../src/crm/lifecycles";
import { limitError, limitOf, MAX_DIMENSIONS, MAX_SHARDS, SHARD_FILL, type LimitKind } from "../src/crm/limits";
import { createLogTables, loadLog, saveDimensions, saveLog, storedDimensionKeys } from "../src/crm/log-storage";
import type { Interval } from "../src/crm/periods";
import { PurchaseLogBuilder, type Dimension, type PurchaseLog } from "../src/crm/purchase-log";
import { ALL_CUSTOMERS, customerBounds, purchaseLineCount, purchasesVersion, readDimension, readPurchaseLog, refreshPurchaseLog, type CustomerRange } from "../src/crm/read";

/**
 * How a project's history is split: `bounds` are the customer_ids where each part after the first
 * begins, so part i holds [bounds[i-1], bounds[i]) and a customer is always in one part. `id` tells
 * plans apart (a new plan's parts are new objects).
 */
export type ShardPlan = { id: number; bounds: string[] };

/**
 * What a question is asked of: a project's own object (`shard` absent), or one part of a split
 * project. `maxLines` is what one object holds (MAX_PURCHASE_LINES; smaller in tests).
 */
export type HistoryPart = { projectId: string; version: number; maxLines: number; shard?: { plan: number; index: number; range: CustomerRange } };

/** The object of a part: the project's own, or `<project>/<plan>/<index>`. */
export const historyName = (part: Pick<HistoryPart, "projectId" | "shard">) => (part.shard ? `${part.projectId}/${part.shard.plan}/${part.shard.index}` : part.projectId);

/** The parts of a plan, with their customer ranges. */
export function planParts(projectId: string, version: number, maxLines: number, plan: ShardPlan): HistoryPart[] {
  return Array.from({ length: plan.bounds.length + 1 }, (_, index) => ({
    projectId,
    version,
    maxLines,
    shard: { plan: plan.id, index, range: { from: plan.bounds[index - 1] ?? null, to: plan.bounds[index] ?? null } },
  }));
}

/**
 * An answer, the CRM limit that stopped it, or (from a project's own object once the project is
 * split) the plan whose parts answer instead. A limit is returned, not thrown: an exception leaving
 * an RPC method is reported by workerd as an unhandled rejection even when the caller catches it.
 */
export type CrmAnswer<T> = { cells: T[] } | { limit: { kind: LimitKind; detail: string } } | { plan: ShardPlan };

/** What a PurchaseHistory holds: the version, its lines, and where they were read from ("changes": only the changed customers). */
export type HistoryState = { version: number; lines: number; source: "storage" | "d1" | "changes" } | { plan: ShardPlan };

/**
 * One project's purchase history in memory, for CRM analytics (named by the project id), or one part
 * of it by customer (historyName). It reads the purchase lines from D1 once and answers every
 * activity, cohort and lifecycle question from them until projects.purchases_version moves past the
 * version it read (migration 0005's triggers bump it on every change to the project's transactions);
 * then it reads only what changed (refreshPurchaseLog). What it read is also kept in its own storage,
 * so after an eviction it comes back from there rather than from D1. Refreshes run one at a time, so
 * a cold read happens once however many requests arrive together.
 * A project's own object that finds more lines than it holds splits the project: it plans parts of
 * about SHARD_FILL × maxLines lines by customer_id (customerBounds), keeps the plan, drops its lines,
 * and answers with the plan from then on; the caller asks the parts and adds their answers up.
 */
export class PurchaseHistory extends DurableObject<Bindings> {
  private log: PurchaseLog | null = null;
  private source: "storage" | "d1" | "changes" = "d1";
  /** the refresh in flight (or the last one); each request's refresh waits for it */
  private refreshing: Promise<unknown> = Promise.resolve();
  /** dimension reads in flight, by log version and key, shared by the requests asking */
  private readonly dimensionReads = new Map<string, Promise<Dimension | null>>();

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    createLogTables(ctx.storage.sql);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS shard_plan (id INTEGER PRIMARY KEY CHECK (id = 1), plan TEXT NOT NULL)");
  }

  async activity(part: HistoryPart, interval: Interval, groupBy: string | null, conditions: CrmCondition[]): Promise<CrmAnswer<ActivityCell>> {
    return this.answer(part, async () => {
      let version = part.version;
      for (let attempt = 1; ; attempt++) {
        const log = await this.current({ ...part, version });
        const dimension = groupBy === null ? null : await this.dimension(part, log, groupBy);
        if (groupBy === null || dimension) return activityCells(log, interval, dimension, conditions);
        // The lines changed while the dimension was read: read both again.
        if (attempt === 3) throw new Error("the purchases kept changing while being read");
        version = log.version + 1;
      }
    });
  }

  async cohorts(part: HistoryPart, interval: "week" | "month", userType: "new" | "active"): Promise<CrmAnswer<CohortCell>> {
    return this.answer(part, async () => cohortCells(await this.current(part), interval, userType));
  }

  async lifecycles(part: HistoryPart, interval: "week" | "month", periodStarts: number[], thresholds: { dormantAfterDays: number; lapsedAfterDays: number }): Promise<CrmAnswer<LifecycleCell>> {
    return this.answer(part, async () => lifecycleCells(await this.current(part), interval, periodStarts, thresholds));
  }

  /**
   * Brings the history up to date ahead of the first question (after ingest), with the dimensions
   * asked for before, and says where the lines came from (or, split, the plan whose parts to warm).
   */
  async warm(part: Omit<HistoryPart, "version">): Promise<HistoryState> {
    const plan = this.plan();
    if (plan && !part.shard) return { plan };
    const version = await purchasesVersion(this.env.DB, part.projectId);
    if (version === null) return { version: 0, lines: 0, source: "d1" };
    const keys = this.log ? [...this.log.dimensions.keys()] : storedDimensionKeys(this.ctx.storage.sql);
    const log = await this.current({ ...part, version });
    const source = this.source;
    for (const key of keys) await this.dimension(part, log, key);
    return { version: log.version, lines: log.day.length, source };
  }

  /**
   * Plans the project's parts again (a part outgrew one object), unless the plan held is newer than
   * `seen`; the old parts forget their lines.
   */
  async split(projectId: string, maxLines: number, seen: number | null): Promise<CrmAnswer<never>> {
    return this.exclusive(async () => {
      const held = this.plan();
      if (held && (seen === null || held.id > seen)) return { plan: held };
      return this.planAnew(projectId, maxLines);
    });
  }

  /** Forgets everything (the project was deleted), the parts of a split project too, after any refresh in flight. */
  async forget(projectId: string): Promise<void> {
    await this.refreshing.catch(() => undefined);
    await this.forgetParts(projectId, this.plan());
    this.log = null;
    await this.ctx.storage.deleteAll();
    createLogTables(this.ctx.storage.sql);
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS shard_plan (id INTEGER PRIMARY KEY CHECK (id = 1), plan TEXT NOT NULL)");
  }

  private plan(): ShardPlan | null {
    const row = this.ctx.storage.sql.exec<{ plan: string }>("SELECT plan FROM shard_plan WHERE id = 1").toArray()[0];
    return row ? (JSON.parse(row.plan) as ShardPlan) : null;
  }

  /** Runs a question; a project's own object that is split, or finds itself too large, answers with the plan. */
  private async answer<T>(part: HistoryPart, compute: () => Promise<T[]>): Promise<CrmAnswer<T>> {
    if (!part.shard) {
      const plan = this.plan();
      if (plan) return { plan };
    }
    try {
      return { cells: await compute() };
    } catch (error) {
      const limit = limitOf(error);
      if (!limit) throw error;
      if (limit.kind === "crm-limit:lines" && !part.shard) {
        // Requests that queued behind the one that split take its plan rather than planning again.
        return this.exclusive(async () => {
          const plan = this.plan();
          return plan ? { plan } : this.planAnew(part.projectId, part.maxLines);
        });
      }
      return { limit };
    }
  }

  private async planAnew(projectId: string, maxLines: number): Promise<CrmAnswer<never>> {
    const lines = await purchaseLineCount(this.env.DB, projectId);
    const perPart = Math.max(1, Math.floor(maxLines * SHARD_FILL));
    const parts = Math.ceil(lines / perPart);
    if (parts > MAX_SHARDS) {
      return { limit: limitOf(limitError("crm-limit:lines", `the project has ${lines} purchase lines; CRM analytics hold at most ${MAX_SHARDS * perPart} (${MAX_SHARDS} objects of ${perPart})`))! };
    }
    const old = this.plan();
    const plan: ShardPlan = { id: Math.max(Date.now(), (old?.id ?? 0) + 1), bounds: await customerBounds(this.env.DB, projectId, lines, parts) };
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO shard_plan (id, plan) VALUES (1, ?)", JSON.stringify(plan));
    // This object's own lines, and the old parts', are no longer asked for.
    this.log = null;
    this.ctx.storage.transactionSync(() => this.ctx.storage.sql.exec("DELETE FROM log_chunks"));
    await this.forgetParts(projectId, old);
    console.log(JSON.stringify({ level: "info", message: "purchase history split", projectId, lines, parts: plan.bounds.length + 1 }));
    return { plan };
  }

  private async forgetParts(projectId: string, plan: ShardPlan | null) {
    if (!plan) return;
    for (const part of planParts(projectId, 0, 0, plan)) await this.env.PURCHASE_HISTORY.get(this.env.PURCHASE_HISTORY.idFromName(historyName(part))).forget(projectId);
  }

  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.refreshing.then(operation, operation);
    this.refreshing = next.catch(() => undefined);
    return next;
  }

  /**
   * The log at `version` or later: from memory, else from storage; if older, brought up to date by
   * reading only the changed customers (refreshPurchaseLog), or the whole log when most changed.
   */
  private current(part: HistoryPart): Promise<PurchaseLog> {
    const { projectId, version } = part;
    const range = part.shard?.range ?? ALL_CUSTOMERS;
    const maxLines = part.maxLines;
    const within = (log: PurchaseLog) => {
      // Held under a larger limit than this question's: the caller splits the project.
      if (log.day.length > maxLines) throw limitError("crm-limit:lines", `${log.day.length} purchase lines; one object holds at most ${maxLines}`);
      return log;
    };
    return this.exclusive(async () => {
      if (this.log && this.log.version >= version) return within(this.log);
      if (!this.log) {
        this.log = loadLog(this.ctx.storage.sql);
        this.source = "storage";
        if (this.log && this.log.version >= version) return within(this.log);
      }
      const held = this.log;
      const changed = held
        ? await timed("purchase log refresh", projectId, () => refreshPurchaseLog(this.env.DB, projectId, held, undefined, maxLines, range), (l) =>
            typeof l === "object" && l ? { lines: l.day.length, version: l.version } : { outcome: l },
          )
        : "whole";
      let read: PurchaseLog | null;
      if (changed === "whole") {
        // The old columns go before the new ones are read: two copies of a large log would not fit.
        this.log = null;
        read = await timed("purchase log read", projectId, () => readPurchaseLog(this.env.DB, projectId, undefined, maxLines, range), (l) => ({ lines: l?.day.length ?? null, version: l?.version ?? null }));
        this.source = "d1";
      } else {
        read = changed;
        this.source = "changes";
      }
      // A project deleted meanwhile has nothing, and nothing is stored for it.
      if (read) await timed("purchase log stored", projectId, async () => saveLog(this.ctx.storage, read), () => ({}));
      this.log = read ?? new PurchaseLogBuilder(0).build(version);
      return this.log;
    });
  }

  private async dimension(part: Omit<HistoryPart, "version">, log: PurchaseLog, key: string): Promise<Dimension | null> {
    const known = log.dimensions.get(key);
    if (known) {
      log.dimensions.delete(key);
      log.dimensions.set(key, known);
      return known;
    }
    const id = `${log.version}\u0000${key}`;
    let reading = this.dimensionReads.get(id);
    if (!reading) {
      reading = timed("purchase dimension read", part.projectId, () => readDimension(this.env.DB, part.projectId, log, key), (d) => ({ key, values: d?.values.length ?? null })).finally(() =>
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
