import { guardQuery, QueryRejected, sourcePosition } from "../analytics/sql-guard";
import { ROW_CAP, SIZE_CAP_BYTES } from "../analytics/warehouse-query";
import type { Bindings } from "../env";
import { ApiError } from "../errors";
import type { AnalyticsScope } from "../analytics/scope";

export { ROW_CAP, SIZE_CAP_BYTES };

type Env = Pick<Bindings, "ANALYTICS_WAREHOUSE">;

const warehouse = (env: Env, organizationId: string) => env.ANALYTICS_WAREHOUSE.get(env.ANALYTICS_WAREHOUSE.idFromName(organizationId));

const invalid = (reason: string, position: { line: number; column: number; offset?: number } | null = null) => new ApiError("invalid_query", { reason, position }, { reason });

/**
 * Runs a tenant's query over their star schema. The guard checks and rewrites it here; it then runs
 * only in the organization's AnalyticsWarehouse, never on D1: the text a tenant writes never reaches
 * the database other tenants share. 64-bit integers come back as strings, reals as numbers.
 */
export async function runAnalyticsQuery(env: Env, scope: AnalyticsScope, query: string) {
  let guarded;
  try {
    guarded = guardQuery(query, scope);
  } catch (error) {
    if (error instanceof QueryRejected) throw invalid(error.message, error.position ?? null);
    throw error;
  }
  let result;
  try {
    result = await warehouse(env, scope.organizationId).query(scope.organizationId, guarded);
  } catch (error) {
    // In production a statement past the object's CPU limit ends it (only this organization's warehouse restarts).
    if (error instanceof Error && /exceeded|reset|CPU/i.test(error.message)) throw invalid("the query ran past the warehouse's time limit; aggregate or filter more");
    throw error;
  }
  const answer = result.answer;
  if (!answer.ok) throw invalid(answer.reason, answer.offset === null ? null : sourcePosition(guarded, query, answer.offset));
  return {
    columns: answer.columns,
    rows: answer.rows,
    meta: {
      rows: answer.rows.length,
      elapsed_ms: answer.elapsedMs,
      catch_up_ms: result.catchUpMs,
      truncated: answer.truncated,
      truncated_by: answer.truncatedBy,
      tables: guarded.tables,
    },
  };
}

/** Brings the organization's warehouse up to date now (a deleted project's rows leave it at once). */
export async function refreshWarehouse(env: Env, organizationId: string) {
  return warehouse(env, organizationId).refresh(organizationId);
}
