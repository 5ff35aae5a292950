import { beforeAll, describe, expect, it } from "vitest";
import { call, expectError, json, tenant } from "../helpers";
import { ingest, waitForJob } from "../ingest/helpers";

type Tenant = Awaited<ReturnType<typeof tenant>>;

const history = [
  { customer_id: "A", order_date: "2025-01-05", amount: 10, country: "TR" },
  { customer_id: "A", order_date: "2025-01-20", amount: 20, country: "TR" },
  { customer_id: "A", order_date: "2025-03-10", amount: 30, country: "TR" },
  { customer_id: "B", order_date: "2025-01-15", amount: 40, country: "DE" },
  { customer_id: "C", order_date: "2025-02-01", amount: 50, country: "TR" },
  { customer_id: "C", order_date: "2025-06-01", amount: 60, country: "TR" },
  { customer_id: "D", order_date: "2024-12-20", amount: 70, country: "DE" },
  { customer_id: "D", order_date: "2025-02-10", amount: 80, country: "DE" },
  { customer_id: "D", order_date: "2025-02-11", amount: -80, country: "DE" },
];

const get = async (t: Tenant, path: string) => json(await call("GET", `/api/crm/analytics/${path}`, { token: t.apiKey.key }));

describe("CRM analytics", () => {
  let t: Tenant;
  let other: Tenant;
  beforeAll(async () => {
    [t, other] = await Promise.all([tenant(), tenant()]);
    await waitForJob(t.apiKey.key, (await ingest(t.apiKey.key, t.project.id, history)).job_id);
  }, 30_000);

  it("activity per country and month: customers, first-timers, orders, revenue, average order", async () => {
    const body = await get(t, "activity?group_by=country&grouping_interval=month");
    expect(body.status).toBe("success");
    const rows = body.data.map((r: any) => [r.activity_on, r.country, r.active_customers, r.first_time_customers, r.orders, r.revenue_cents, r.average_order_value_cents]);
    expect(rows).toEqual([
      ["2024-12-01", "DE", 1, 1, 1, 7000, 7000],
      ["2025-01-01", "DE", 1, 1, 1, 4000, 4000],
      ["2025-01-01", "TR", 1, 1, 2, 3000, 1500],
      ["2025-02-01", "DE", 1, 0, 1, 8000, 8000],
      ["2025-02-01", "TR", 1, 1, 1, 5000, 5000],
      ["2025-03-01", "TR", 1, 0, 1, 3000, 3000],
      ["2025-06-01", "TR", 1, 0, 1, 6000, 6000],
    ]);
    expect(body.data[0]).toMatchObject({ organization_id: t.organization.id, project_id: t.project.id });
  });

  it("activity overall, by Monday weeks, filtered and ordered", async () => {
    const overall = await get(t, "activity?grouping_interval=overall");
    expect(overall.data).toEqual([expect.objectContaining({ activity_on: null, active_customers: 4, first_time_customers: 4, orders: 8, revenue_cents: 36000 })]);
    // Over Feb–Jun only A (first purchase in January) and D (December) are not first-timers; C is.
    const spring = await get(t, `activity?grouping_interval=overall&filters=${encodeURIComponent(JSON.stringify([{ field: "activity_on", op: "range", min: "2025-02-01", max: "2025-06-30" }]))}`);
    expect(spring.data).toEqual([expect.objectContaining({ active_customers: 3, first_time_customers: 1, orders: 4 })]);
    const weeks = await get(t, `activity?grouping_interval=week&filters=${encodeURIComponent(JSON.stringify([{ field: "activity_on", op: "range", min: "2025-01-01", max: "2025-01-31" }]))}&order_by=-revenue_cents`);
    expect(weeks.data.map((r: any) => [r.activity_on, r.revenue_cents])).toEqual([["2025-01-13", 4000], ["2025-01-20", 2000], ["2024-12-30", 1000]]);
  });

  it("new-user cohorts: the period-0 cell is the cohort size", async () => {
    const body = await get(t, "user_cohorts?user_type=new&grouping_interval=month");
    expect(body.data.map((r: any) => [r.cohort_on, r.activity_on, r.user_count])).toEqual([
      ["2024-12-01", "2024-12-01", 1],
      ["2024-12-01", "2025-02-01", 1],
      ["2025-01-01", "2025-01-01", 2],
      ["2025-01-01", "2025-03-01", 1],
      ["2025-02-01", "2025-02-01", 1],
      ["2025-02-01", "2025-06-01", 1],
    ]);
    const active = await get(t, `user_cohorts?user_type=active&filters=${encodeURIComponent(JSON.stringify([{ field: "cohort_on", op: "eq", value: "2025-02-01" }]))}`);
    expect(active.data.map((r: any) => [r.activity_on, r.user_count])).toEqual([["2025-02-01", 2], ["2025-06-01", 1]]);
  });

  it("lifecycle stages by month, each customer once, in the latest stage of the period", async () => {
    const filters = encodeURIComponent(JSON.stringify([{ field: "activity_on", op: "range", min: "2025-01-01", max: "2025-06-30" }]));
    const body = await get(t, `user_lifecycles?grouping_interval=month&filters=${filters}`);
    const table: Record<string, Record<string, number>> = {};
    for (const r of body.data) (table[r.activity_on] ??= {})[r.lifecycle_status] = r.user_count;
    expect(table).toEqual({
      "2025-01-01": { new: 2, dormant: 1 },
      "2025-02-01": { dormant: 2, new: 1, reactivated: 1 },
      "2025-03-01": { reactivated: 1, dormant: 3 },
      "2025-04-01": { dormant: 3, lapsed: 1 },
      "2025-05-01": { dormant: 1, lapsed: 3 },
      "2025-06-01": { lapsed: 3, reactivated: 1 },
    });
    const onlyLapsed = await get(t, `user_lifecycles?filters=${encodeURIComponent(JSON.stringify([{ field: "activity_on", op: "range", min: "2025-04-01", max: "2025-05-31" }, { field: "lifecycle_status", op: "eq", value: "lapsed" }]))}`);
    expect(onlyLapsed.data.map((r: any) => [r.activity_on, r.user_count])).toEqual([["2025-04-01", 1], ["2025-05-01", 3]]);
    // `in` picks periods by their first day; `neq` leaves one out of the default range.
    const picked = await get(t, `user_lifecycles?filters=${encodeURIComponent(JSON.stringify([{ field: "activity_on", op: "in", values: ["2025-01-01", "2025-03-01"] }]))}`);
    expect([...new Set(picked.data.map((r: any) => r.activity_on))]).toEqual(["2025-01-01", "2025-03-01"]);
    expect(picked.data.filter((r: any) => r.activity_on === "2025-03-01").map((r: any) => [r.lifecycle_status, r.user_count])).toEqual([["dormant", 3], ["reactivated", 1]]);
    // Without a lower bound: the 12 months up to the latest purchase (June 2025), July 2024 first.
    const defaults = await get(t, "user_lifecycles");
    expect([...new Set(defaults.data.map((r: any) => r.activity_on))]).toEqual(["2024-12-01", "2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01", "2025-06-01"]);
    const upTo = await get(t, `user_lifecycles?filters=${encodeURIComponent(JSON.stringify([{ field: "activity_on", op: "lt", value: "2025-03-01" }]))}`);
    expect([...new Set(upTo.data.map((r: any) => r.activity_on))]).toEqual(["2024-12-01", "2025-01-01", "2025-02-01"]);
    const withoutMarch = await get(t, `user_lifecycles?filters=${encodeURIComponent(JSON.stringify([{ field: "activity_on", op: "neq", value: "2025-03-01" }]))}`);
    expect(withoutMarch.data.some((r: any) => r.activity_on === "2025-03-01")).toBe(false);
    expect(withoutMarch.data.some((r: any) => r.activity_on === "2025-06-01")).toBe(true);
  });

  it("answers 400 for unknown fields, bad dates, bad order_by and thresholds", async () => {
    for (const q of [
      "activity?grouping_interval=year",
      `activity?filters=${encodeURIComponent(JSON.stringify([{ field: "password", op: "eq", value: 1 }]))}`,
      `activity?filters=${encodeURIComponent(JSON.stringify([{ field: "activity_on", op: "gte", value: "last week" }]))}`,
      "activity?filters=%5B",
      "activity?order_by=-secret",
      "activity?group_by=country')%20OR%201=1--",
      "user_cohorts?user_type=vip",
      "user_cohorts?grouping_interval=day",
      "user_lifecycles?dormant_after_days=90&lapsed_after_days=30",
      "user_lifecycles?dormant_after_days=0",
      `user_lifecycles?filters=${encodeURIComponent(JSON.stringify([{ field: "activity_on", op: "lte", value: "2025-13-01" }]))}`,
      `activity?filters=${encodeURIComponent(JSON.stringify([{ field: "activity_on", op: "eq", value: "2025-02-30" }]))}`,
      `user_cohorts?filters=${encodeURIComponent(JSON.stringify([{ field: "cohort_on", op: "in", values: ["2025-01-01", 20250101] }]))}`,
      `user_lifecycles?grouping_interval=week&filters=${encodeURIComponent(JSON.stringify([{ field: "activity_on", op: "range", min: "2010-01-01", max: "2025-01-01" }]))}`,
      "activity?group_by=revenue_cents",
      `activity?filters=${encodeURIComponent(JSON.stringify([{ field: "activity_on", op: "range", min: "2025-06-01", max: "2025-01-01" }]))}`,
      `user_lifecycles?filters=${encodeURIComponent(JSON.stringify([{ field: "lifecycle_status", op: "eq", value: "zombie" }]))}`,
      "activity?group_by=project_id",
      `activity?filters=${encodeURIComponent(JSON.stringify([{ field: "dimension", op: "eq", value: "TR" }]))}`,
    ]) {
      await expectError(await call("GET", `/api/crm/analytics/${q}`, { token: t.apiKey.key }), 400, "validation_error");
    }
  });

  it("shows another tenant nothing", async () => {
    for (const path of ["activity", "user_cohorts", "user_lifecycles"]) expect((await get(other, path)).data).toEqual([]);
    await expectError(await call("GET", `/api/crm/analytics/activity?project_id=${t.project.id}`, { token: other.owner.token }), 404, "not_found");
  });
});
