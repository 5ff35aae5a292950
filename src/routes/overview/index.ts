import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq } from "drizzle-orm";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { jobs } from "../../db/schema";
import { principalOf } from "../../middleware/auth";
import { projectForPrincipal } from "../../services/projects";
import { listSegments } from "../../services/segments";
import { upliftSummary } from "../../services/uplift";
import { auth, createRouter } from "../router";
import { jsonResponse, ProjectIdParam, Timestamp } from "../schemas";

const Overview = z
  .object({
    project_id: z.string(),
    state: z.enum(["empty", "not_modelled", "modelled"]).openapi({ description: "empty: no customers yet; not_modelled: customers but no completed segmentation run" }),
    customers: z.object({ total: z.number().int(), profiled: z.number().int() }),
    revenue: z.object({ total: z.number(), average_per_customer: z.number().nullable() }),
    churn: z.object({
      average_score: z.number().nullable(),
      distribution: z.object({ low: z.number().int(), medium: z.number().int(), high: z.number().int(), unscored: z.number().int() }),
    }),
    abc: z.record(z.enum(["A", "B", "C"]), z.object({ customers: z.number().int(), revenue_share: z.number() })),
    segments: z.array(z.object({ id: z.string(), name: z.string(), kind: z.string(), size: z.number().int(), share: z.number() })),
    churn_model: z
      .object({ r: z.number(), alpha: z.number(), a: z.number(), b: z.number(), log_likelihood: z.number(), time_unit: z.literal("week") })
      .nullable()
      .openapi({ description: "The BG/NBD parameters of the last run (time in weeks)" }),
    uplift: z
      .object({
        treated: z.number().int(),
        control: z.number().int(),
        treated_conversion: z.number().nullable(),
        control_conversion: z.number().nullable(),
        observed_lift: z.number().nullable(),
        min_group: z.number().int(),
      })
      .openapi({ description: "Automation outcomes whose window has closed: treated vs control customers, purchase rates and the observed lift; uplift_score is fitted once each group has min_group" }),
    last_run: z
      .object({
        job_id: z.string(),
        status: z.string(),
        finished_at: Timestamp.nullable(),
        k: z.number().int().nullable(),
        reference_date: Timestamp.nullable(),
        churn_note: z.string().nullable(),
      })
      .nullable(),
  })
  .openapi("ProjectOverview");

const route = createRoute({
  method: "get",
  path: "/projects/{projectId}/overview",
  tags: ["Customers"],
  summary: "Aggregate ML statistics of a project",
  ...auth.sessionOrApiKey(),
  request: { params: ProjectIdParam },
  responses: { 200: jsonResponse(Overview, "Counts, revenue, churn distribution, ABC shares, segments and the last run"), ...authErrorResponses },
});

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

export function overviewRoutes() {
  const app = createRouter();
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId);
    const totals = (await c.env.DB.prepare(
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
    const lastCompleted = await db
      .select()
      .from(jobs)
      .where(and(eq(jobs.projectId, project.id), eq(jobs.type, "segmentation"), eq(jobs.status, "completed")))
      .orderBy(desc(jobs.finishedAt))
      .get();
    const result = (lastCompleted?.result ?? null) as { churn_model?: Record<string, number> | null; k?: number; reference_date?: string; churn_note?: string | null } | null;
    const positive = Math.max(1, totals.a_cents + totals.b_cents + totals.c_cents);
    const share = (cents: number) => Math.round((cents / positive) * 10_000) / 10_000;
    const cm = result?.churn_model;
    return c.json(
      {
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
        segments: (await listSegments(db, project.id)).map((s) => ({
          id: s.id,
          name: s.name,
          kind: s.kind,
          size: s.size,
          share: totals.total ? Math.round((s.size / totals.total) * 10_000) / 10_000 : 0,
        })),
        uplift: await upliftSummary(c.env.DB, project.id),
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
      },
      200,
    );
  });
  return app;
}
