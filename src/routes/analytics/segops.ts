import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { analyticsScope } from "../../services/access";
import { activationAnalytics, copilotAnalytics, overlapAnalytics, overviewAnalytics, planUsage, segmentTrends } from "../../services/segops";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { Activations, AnalyticsOverview, Copilot, Overlap, PlanUsage, ScopeQuery, SegmentTrend } from "./schema";

const common = { tags: ["Analytics"], ...auth.sessionOrApiKey(), request: { query: ScopeQuery } };
const description =
  "Scope: an API key sees its project; a session sees its active organization, or one project of it with `project_id`.";

const routes = {
  overview: createRoute({ method: "get", path: "/overview", operationId: "getAnalyticsOverview", summary: "Segments, members, ingested events and AI credits", description, ...common, responses: { 200: jsonResponse(AnalyticsOverview, "Overview"), ...authErrorResponses } }),
  segments: createRoute({
    method: "get",
    path: "/segments",
    operationId: "getSegmentTrends",
    summary: "Segments with a 30-day daily membership trend",
    description: `${description} The trend comes from the daily membership snapshots; it is empty until a segment has snapshots on two days.`,
    ...common,
    responses: { 200: jsonResponse(SegmentTrend, "Segments"), ...authErrorResponses },
  }),
  overlap: createRoute({
    method: "get",
    path: "/overlap",
    operationId: "getSegmentOverlap",
    summary: "Top 20 segment pairs by shared members",
    description: `${description} From the latest snapshot: overlap_pct = overlap / min(size_a, size_b) × 100; [] with fewer than 2 segments.`,
    ...common,
    responses: { 200: jsonResponse(Overlap, "Pairs"), ...authErrorResponses },
  }),
  activations: createRoute({
    method: "get",
    path: "/activations",
    operationId: "getActivations",
    summary: "Per-connector activation breakdown",
    description: `${description} One row per automation; its sync logs are its finished runs: success_rate (% of runs that fully succeeded) over the last 30 (null without logs), and the 5 most recent, user_count being the members delivered.`,
    ...common,
    responses: { 200: jsonResponse(Activations, "Connectors"), ...authErrorResponses },
  }),
  copilot: createRoute({
    method: "get",
    path: "/copilot",
    operationId: "getCopilotUsage",
    summary: "Copilot calls: total and 30 days of daily success and error counts",
    description: `${description} From the copilot call log; days without calls are omitted. Errors include refusals for quota.`,
    ...common,
    responses: { 200: jsonResponse(Copilot, "Copilot usage"), ...authErrorResponses },
  }),
  usage: createRoute({
    method: "get",
    path: "/usage",
    operationId: "getAnalyticsUsage",
    summary: "This billing period's usage against the plan's limits",
    description: "Organization-wide (quotas are per organization); -1 means unlimited.",
    ...common,
    responses: { 200: jsonResponse(PlanUsage, "Usage"), ...authErrorResponses },
  }),
};

export function registerSegOps(app: Router) {
  app.openapi(routes.overview, async (c) => {
    const db = database(c.env.DB);
    const scope = await analyticsScope(db, principalOf(c), c.req.valid("query").project_id);
    return c.json(await overviewAnalytics(c.env, db, scope), 200);
  });
  app.openapi(routes.segments, async (c) => {
    const scope = await analyticsScope(database(c.env.DB), principalOf(c), c.req.valid("query").project_id);
    return c.json(await segmentTrends(c.env.DB, scope), 200);
  });
  app.openapi(routes.overlap, async (c) => {
    const scope = await analyticsScope(database(c.env.DB), principalOf(c), c.req.valid("query").project_id);
    return c.json(await overlapAnalytics(c.env.DB, scope), 200);
  });
  app.openapi(routes.activations, async (c) => {
    const scope = await analyticsScope(database(c.env.DB), principalOf(c), c.req.valid("query").project_id);
    return c.json(await activationAnalytics(c.env.DB, scope), 200);
  });
  app.openapi(routes.copilot, async (c) => {
    const scope = await analyticsScope(database(c.env.DB), principalOf(c), c.req.valid("query").project_id);
    return c.json(await copilotAnalytics(c.env.DB, scope), 200);
  });
  app.openapi(routes.usage, async (c) => {
    const db = database(c.env.DB);
    const scope = await analyticsScope(db, principalOf(c), c.req.valid("query").project_id);
    return c.json(await planUsage(c.env.DB, db, scope.organizationId), 200);
  });
}
