import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../src/env";
import type { GuardedQuery } from "../src/analytics/sql-guard";
import { runWarehouseQuery, type WarehouseAnswer } from "../src/analytics/warehouse-query";
import { catchUp, createWarehouseTables, type SyncReport } from "../src/analytics/warehouse-sync";

/**
 * One organization's analytics warehouse (named by the organization id): its star tables in this
 * object's SQLite, copied from D1 on first use and kept up to date incrementally (warehouse-sync.ts).
 * Tenant SQL runs only here, so it can reach no other organization's rows and stall no other
 * organization's database; a runaway statement is ended by this object's CPU limit in production.
 * Catch-ups and queries run one at a time: a query first brings the copy up to date with everything
 * D1 had when it arrived, and never runs between two steps of a catch-up.
 */
export class AnalyticsWarehouse extends DurableObject<Bindings> {
  /** the operation in flight (or the last one); the next waits for it */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    createWarehouseTables(ctx.storage.sql);
  }

  /** Catches up, then runs a query the SQL guard accepted and rewrote. */
  async query(organizationId: string, guarded: GuardedQuery): Promise<{ answer: WarehouseAnswer; catchUpMs: number }> {
    return this.exclusive(async () => {
      const started = Date.now();
      const report = await catchUp(this.ctx.storage, this.env.DB, organizationId);
      const catchUpMs = Date.now() - started;
      // A long catch-up (a backfill, a model run's profiles) is the one slow path of the SQL API.
      if (catchUpMs > 1_000) console.log(JSON.stringify({ level: "info", message: "warehouse catch-up", organizationId, ms: catchUpMs, ...report }));
      return { answer: runWarehouseQuery(this.ctx.storage.sql, guarded), catchUpMs };
    });
  }

  /** Catches up now (after a project's deletion, so its rows leave at once; or to warm it). */
  async refresh(organizationId: string): Promise<SyncReport & { ms: number }> {
    return this.exclusive(async () => {
      const started = Date.now();
      const report = await catchUp(this.ctx.storage, this.env.DB, organizationId);
      return { ...report, ms: Date.now() - started };
    });
  }

  /** Rows held per table and the SQLite file's size, for tests and the benchmark. */
  async stats(): Promise<{ bytes: number; rows: Record<string, number> }> {
    return this.exclusive(async () => {
      const rows: Record<string, number> = {};
      for (const table of ["dim_project", "dim_customer", "dim_segment", "fact_transaction", "daily_sales_by_file", "fact_segment_membership", "fact_segment_size", "fact_usage"]) {
        rows[table] = this.ctx.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n;
      }
      return { bytes: this.ctx.storage.sql.databaseSize, rows };
    });
  }

  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.queue.then(operation, operation);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
