import { createRoute, z } from "@hono/zod-openapi";
import { isValidTimeZone } from "../../analytics/buckets";
import { authErrorResponses, invalidField } from "../../errors";
import { database } from "../../db/client";
import { sessionOf } from "../../middleware/auth";
import { requireMembership } from "../../services/organizations";
import { usageGroups, usageSeries, type UsageGroup } from "../../services/usage-series";
import { auth, type Router } from "../router";
import { jsonResponse, OrganizationIdParam } from "../schemas";

const DAY_MS = 86_400_000;
const isoInstant = z.iso.datetime({ offset: true, local: false });

const UsageQuery = z
  .object({
    start: isoInstant.optional().openapi({ description: "Inclusive; defaults to 30 days before end" }),
    end: isoInstant.optional().openapi({ description: "Exclusive; defaults to now" }),
    granularity: z.enum(["hour", "day", "month"]).default("day"),
    group_by: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .transform((value, ctx) => {
        const names = (Array.isArray(value) ? value : value ? [value] : []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
        for (const name of names) {
          if (!(usageGroups as readonly string[]).includes(name)) {
            ctx.addIssue({ code: "custom", message: `unknown group_by "${name}"; use ${usageGroups.join(", ")}` });
            return z.NEVER;
          }
        }
        return [...new Set(names)] as UsageGroup[];
      })
      .openapi({ type: "string", description: "project, api_key, type: comma separated or repeated" }),
    tz: z
      .string()
      .max(64)
      .default("UTC")
      .refine(isValidTimeZone, "unknown IANA time zone")
      .openapi({ description: "IANA zone for bucket boundaries, e.g. Europe/Istanbul, Asia/Kolkata" }),
    limit: z.coerce.number().int().min(1).max(500).default(500).openapi({ description: "Most time buckets returned (the latest ones)" }),
  });

const UsageSeries = z
  .object({
    meta: z.object({
      organization_id: z.string(),
      start: z.string().openapi({ description: "Where the answered buckets begin: later than the requested start when the range held more than `limit` buckets" }),
      end: z.string(),
      granularity: z.enum(["hour", "day", "month"]),
      group_by: z.array(z.enum(usageGroups)),
      tz: z.string(),
    }),
    data: z.array(
      z.object({
        ts: z.string().openapi({ description: "Bucket start in the zone, with its offset" }),
        values: z.array(
          z.object({
            events: z.number().int().openapi({ description: "Transaction rows ingested" }),
            api_requests: z.number().int(),
            model_runs: z.number().int(),
            genai_ops: z.number().int(),
            dimensions: z.record(z.string(), z.string().nullable()),
          }),
        ),
      }),
    ),
  })
  .openapi("UsageSeries");

const route = createRoute({
  method: "get",
  path: "/{orgId}/analytics/usage",
  operationId: "getUsageSeries",
  tags: ["Analytics"],
  summary: "Usage over time, bucketed in a time zone",
  description: "Buckets follow local calendar boundaries in `tz` (DST and half-hour offsets included); empty buckets are present with zeros.",
  ...auth.session(),
  request: { params: OrganizationIdParam, query: UsageQuery },
  responses: { 200: jsonResponse(UsageSeries, "Usage series"), ...authErrorResponses },
});

export function registerUsageSeries(app: Router) {
  app.openapi(route, async (c) => {
    const { orgId } = c.req.valid("param");
    await requireMembership(database(c.env.DB), sessionOf(c).user.id, orgId);
    const q = c.req.valid("query");
    const end = q.end ? Date.parse(q.end) : Date.now();
    const start = q.start ? Date.parse(q.start) : end - 30 * DAY_MS;
    if (start >= end) {
      throw invalidField("start", "custom", "start must be before end");
    }
    const data = await usageSeries(c.env, { organizationId: orgId, start, end, granularity: q.granularity, tz: q.tz, groupBy: q.group_by, limit: q.limit });
    // With more buckets in the range than `limit`, only the latest are answered: meta says where they begin.
    const covered = data[0] ? Math.max(start, Date.parse(data[0].ts)) : start;
    return c.json(
      {
        meta: { organization_id: orgId, start: new Date(covered).toISOString(), end: new Date(end).toISOString(), granularity: q.granularity, group_by: q.group_by, tz: q.tz },
        data,
      },
      200,
    );
  });
}
