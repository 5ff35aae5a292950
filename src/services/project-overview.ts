import { and, desc, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { jobs } from "../db/schema";
import { lastCompletedRun } from "./jobs";
import type { ProjectRecord } from "./projects";
import { projectSegments } from "./segments";
import { upliftSummary } from "./uplift";

type Totals = {
  total: number;
  profiled: number;
  revenue_cents: number;
  avg_churn: number | null;
  low: number;
  medium: number;
  high: number;
  a: number;
  b: number;
  c: number;
  a_cents: number;
  b_cents: number;
  c_cents: number;
};

/**
 * A project's aggregate statistics: customers, revenue, churn distribution, ABC shares, segment sizes,
 * the BG/NBD parameters and the state of the last model run.
 */
export async function projectOverview(d1: D1Database, db: Database, project: ProjectRecord) {
  const totals = (await d1.prepare(
    `SELECT COUNT(*) AS total, COALESCE(SUM(profiled_at IS NOT NULL), 0) AS profiled, COALESCE(SUM(monetary_cents), 0) AS revenue_cents,
       AVG(churn_score) AS avg_churn,
       COALESCE(SUM(churn_risk = 'low'), 0) AS low, COALESCE(SUM(churn_risk = 'medium'), 0) AS medium, COALESCE(SUM(churn_risk = 'high'), 0) AS high,
       COALESCE(SUM(abc_category = 'A'), 0) AS a, COALESCE(SUM(abc_category = 'B'), 0) AS b, COALESCE(SUM(abc_category = 'C'), 0) AS c,
       COALESCE(SUM(CASE WHEN abc_category = 'A' THEN MAX(monetary_cents, 0) END), 0) AS a_cents,
       COALESCE(SUM(CASE WHEN abc_category = 'B' THEN MAX(monetary_cents, 0) END), 0) AS b_cents,
       COALESCE(SUM(CASE WHEN abc_category = 'C' THEN MAX(monetary_cents, 0) END), 0) AS c_cents
     FROM customers WHERE project_id = ?`,
  )
    .bind(project.id)
    .first<Totals>())!;
  const lastRun = await db.select().from(jobs).where(and(eq(jobs.projectId, project.id), eq(jobs.type, "segmentation"))).orderBy(desc(jobs.createdAt)).get();
  const lastCompleted = await lastCompletedRun(db, project.id);
  const result = (lastCompleted?.result ?? null) as { churn_model?: Record<string, number> | null; k?: number; reference_date?: string; churn_note?: string | null } | null;
  const positive = Math.max(1, totals.a_cents + totals.b_cents + totals.c_cents);
  const share = (cents: number) => Math.round((cents / positive) * 10_000) / 10_000;
  const cm = result?.churn_model;
  return {
      project_id: project.id,
      state: totals.total === 0 ? ("empty" as const) : lastCompleted ? ("modelled" as const) : ("not_modelled" as const),
      customers: { total: totals.total, profiled: totals.profiled },
      revenue: { total: totals.revenue_cents / 100, average_per_customer: totals.total ? Math.round(totals.revenue_cents / totals.total) / 100 : null },
      churn: {
        average_score: totals.avg_churn === null ? null : Math.round(totals.avg_churn * 10_000) / 10_000,
        distribution: { low: totals.low, medium: totals.medium, high: totals.high, unscored: totals.total - totals.low - totals.medium - totals.high },
      },
      abc: {
        A: { customers: totals.a, revenue_share: share(totals.a_cents) },
        B: { customers: totals.b, revenue_share: share(totals.b_cents) },
        C: { customers: totals.c, revenue_share: share(totals.c_cents) },
      },
      segments: (await projectSegments(db, project.id)).map((s) => ({
        id: s.id,
        name: s.name,
        kind: s.kind,
        size: s.size,
        share: totals.total ? Math.round((s.size / totals.total) * 10_000) / 10_000 : 0,
      })),
      uplift: await upliftSummary(d1, project.id),
    churn_model: cm ? { r: cm.r!, alpha: cm.alpha!, a: cm.a!, b: cm.b!, log_likelihood: cm.log_likelihood!, time_unit: "week" as const } : null,
      last_run: lastRun
        ? {
            job_id: lastRun.id,
            status: lastRun.status,
            finished_at: lastRun.finishedAt?.toISOString() ?? null,
            k: lastRun === lastCompleted || lastRun.id === lastCompleted?.id ? (result?.k ?? null) : null,
            reference_date: lastRun.id === lastCompleted?.id ? (result?.reference_date ?? null) : null,
            churn_note: lastRun.id === lastCompleted?.id ? (result?.churn_note ?? null) : null,
          }
        : null,
    };
}
