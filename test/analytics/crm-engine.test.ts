import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { limitOf, MAX_PURCHASE_LINES } from "../../src/crm/limits";
import type { CrmCondition } from "../../src/crm/conditions";
import type { PurchaseLog } from "../../src/crm/purchase-log";
import { activity, userCohorts, userLifecycles } from "../../src/services/crm-analytics";
import { historyName, planParts, type ShardPlan } from "../../durable-objects/purchase-history";
import { readDimension, readPurchaseLog } from "../../src/crm/read";
import { call, createApiKey, createProject, json, tenant } from "../helpers";
import { ingest, waitForJob } from "../ingest/helpers";

/**
 * The CRM analytics of the PurchaseHistory objects against a naive reference written from the
 * documented definitions (strings, Sets, one pass per question), on seeded random histories in two
 * projects: multi-line orders, returns, a dimension that is sometimes absent, order days in and out of
 * time order. Also: the organization-wide view is the two projects together, a new ingest is seen at
 * once, and paged reads equal one read.
 */
type Line = { project: string; customer: string; day: string; cents: number; order: string; isReturn: boolean; country: string | number | null };

function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function history(seed: number, customers: number) {
  const random = prng(seed);
  const pick = <T,>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const records: Record<string, unknown>[] = [];
  const start = Date.UTC(2024, 0, 1);
  for (let c = 0; c < customers; c++) {
    const orders = 1 + Math.floor(random() * 8);
    let day = start + Math.floor(random() * 500) * 86_400_000;
    for (let o = 0; o < orders; o++) {
      day += Math.floor(random() * random() * 150) * 86_400_000;
      const date = new Date(day).toISOString().slice(0, 10);
      const country = pick(["TR", "DE", "US", null, 7]);
      const lines = random() < 0.25 ? 2 + Math.floor(random() * 2) : 1;
      const orderId = random() < 0.7 ? `o-${c}-${o}` : undefined;
      for (let l = 0; l < (orderId ? lines : 1); l++) {
        records.push({
          customer_id: `c${c}`,
          order_date: date,
          amount: random() < 0.08 ? -5 : Math.round(1 + random() * 20000) / 100,
          ...(orderId && { order_id: orderId }),
          ...(country !== null && { country: l === 1 ? pick(["TR", "DE"]) : country }),
        });
      }
    }
  }
  return records;
}

async function linesOf(projectIds: string[]): Promise<Line[]> {
  const { results } = await env.DB.prepare(
    `SELECT project_id, customer_id, order_day, amount_cents, COALESCE(order_id, file_id || ':' || row_number) AS order_key, is_return, json_extract(extra, '$."country"') AS country
     FROM transactions WHERE project_id IN (SELECT value FROM json_each(?))`,
  )
    .bind(JSON.stringify(projectIds))
    .all<Record<string, any>>();
  return results.map((r) => ({ project: r.project_id, customer: `${r.project_id}/${r.customer_id}`, day: r.order_day, cents: r.amount_cents, order: `${r.project_id}/${r.customer_id}/${r.order_key}`, isReturn: !!r.is_return, country: r.country }));
}

/** A project's own PurchaseHistory, holding what one object holds by default. */
const own = (projectId: string) => ({ projectId, maxLines: MAX_PURCHASE_LINES });

const sortRows = (rows: unknown[][]) => rows.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

// The reference: dates as strings, periods by Date arithmetic.
const DAY = 86_400_000;
const t = (day: string) => Date.parse(`${day}T00:00:00Z`);
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
function periodOf(interval: string, day: string) {
  if (interval === "day") return day;
  if (interval === "month") return `${day.slice(0, 7)}-01`;
  if (interval === "overall") return null;
  return iso(t(day) - ((new Date(t(day)).getUTCDay() + 6) % 7) * DAY);
}
const inRange = (day: string, min?: string, max?: string) => (!min || day >= min) && (!max || day <= max);

function referenceActivity(lines: Line[], interval: string, opts: { min?: string; max?: string; countries?: unknown[]; groupBy: boolean }) {
  const purchases = lines.filter((l) => !l.isReturn);
  const first = new Map<string, string>();
  for (const l of purchases) if (!first.has(l.customer) || l.day < first.get(l.customer)!) first.set(l.customer, l.day);
  const groups = new Map<string, { period: string | null; dim: unknown; customers: Set<string>; firsts: Set<string>; orders: Set<string>; cents: number }>();
  for (const l of purchases) {
    if (!inRange(l.day, opts.min, opts.max)) continue;
    const dim = opts.groupBy ? l.country : null;
    if (opts.countries && !opts.countries.includes(dim)) continue;
    const period = periodOf(interval, l.day);
    const key = JSON.stringify([period, dim]);
    const g = groups.get(key) ?? { period, dim, customers: new Set(), firsts: new Set(), orders: new Set(), cents: 0 };
    groups.set(key, g);
    g.customers.add(l.customer);
    const f = first.get(l.customer)!;
    if (interval === "overall" ? inRange(f, opts.min, opts.max) : periodOf(interval, f) === period) g.firsts.add(l.customer);
    g.orders.add(l.order);
    g.cents += l.cents;
  }
  return sortRows([...groups.values()].map((g) => [g.period, g.dim, g.customers.size, g.firsts.size, g.orders.size, g.cents, Math.round(g.cents / g.orders.size)]));
}

function customerPeriods(lines: Line[], interval: string) {
  const periods = new Map<string, Set<string>>();
  for (const l of lines) if (!l.isReturn) (periods.get(l.customer) ?? periods.set(l.customer, new Set()).get(l.customer)!).add(periodOf(interval, l.day)!);
  return [...periods.values()].map((s) => [...s].sort());
}

function referenceCohorts(lines: Line[], interval: string, userType: string) {
  const cells = new Map<string, number>();
  for (const periods of customerPeriods(lines, interval)) {
    const cohorts = userType === "new" ? [periods[0]!] : periods;
    for (const c of cohorts) for (const p of periods) if (p >= c) cells.set(`${c} ${p}`, (cells.get(`${c} ${p}`) ?? 0) + 1);
  }
  return sortRows([...cells].map(([k, n]) => [...k.split(" "), n]));
}

function referenceLifecycles(lines: Line[], interval: string, starts: string[], dormant: number, lapsed: number) {
  const byCustomer = new Map<string, string[]>();
  for (const l of lines) if (!l.isReturn) (byCustomer.get(l.customer) ?? byCustomer.set(l.customer, []).get(l.customer)!).push(l.day);
  const cells = new Map<string, number>();
  for (const start of starts) {
    const next = interval === "week" ? iso(t(start) + 7 * DAY) : iso(Date.UTC(+start.slice(0, 4), +start.slice(5, 7), 1));
    const end = iso(t(next) - DAY);
    for (const days of byCustomer.values()) {
      const upTo = days.filter((d) => d <= end);
      if (upTo.length === 0) continue;
      const last = upTo.reduce((a, b) => (a > b ? a : b));
      const gap = (t(end) - t(last)) / DAY;
      const firstEver = days.reduce((a, b) => (a < b ? a : b));
      const within = days.filter((d) => d >= start && d <= end);
      const before = days.filter((d) => d < start);
      const firstIn = within.length ? within.reduce((a, b) => (a < b ? a : b)) : null;
      const lastBefore = before.length ? before.reduce((a, b) => (a > b ? a : b)) : null;
      const stage =
        gap > lapsed ? "lapsed"
        : gap > dormant ? "dormant"
        : firstEver >= start ? "new"
        : firstIn && lastBefore && (t(firstIn) - t(lastBefore)) / DAY > dormant ? "reactivated"
        : "active";
      cells.set(`${start} ${stage}`, (cells.get(`${start} ${stage}`) ?? 0) + 1);
    }
  }
  return sortRows([...cells].map(([k, n]) => [...k.split(" "), n]));
}

const get = async (token: string, path: string) => {
  const res = await call("GET", `/api/crm/analytics/${path}`, { token });
  expect(res.status).toBe(200);
  return (await json(res)).data as any[];
};
const q = (filters: unknown[]) => `filters=${encodeURIComponent(JSON.stringify(filters))}`;

describe("CRM analytics engine against the reference", () => {
  let owner: Awaited<ReturnType<typeof tenant>>;
  let second: { id: string; key: string };
  beforeAll(async () => {
    owner = await tenant();
    const project = await createProject(owner.owner.token, owner.organization.id, "Second shop");
    second = { id: project.id, key: (await createApiKey(owner.owner.token, project.id)).key };
    const jobs = await Promise.all([ingest(owner.apiKey.key, owner.project.id, history(1, 90)), ingest(second.key, second.id, history(2, 40))]);
    await Promise.all([waitForJob(owner.apiKey.key, jobs[0]!.job_id), waitForJob(second.key, jobs[1]!.job_id)]);
  }, 60_000);

  it("activity: every interval, with and without the dimension, filtered", async () => {
    const lines = await linesOf([owner.project.id]);
    for (const interval of ["day", "week", "month", "overall"]) {
      for (const groupBy of [false, true]) {
        for (const opts of [{}, { min: "2024-06-01", max: "2025-02-15" }, { countries: ["TR", 7] }]) {
          const filters = [
            ...("min" in opts ? [{ field: "activity_on", op: "range", min: opts.min, max: opts.max }] : []),
            ...("countries" in opts ? [{ field: "dimension", op: "in", values: opts.countries }] : []),
          ];
          if ("countries" in opts && !groupBy) continue;
          const rows = await get(owner.apiKey.key, `activity?grouping_interval=${interval}${groupBy ? "&group_by=country" : ""}&${q(filters)}`);
          const actual = rows.map((r) => [r.activity_on, groupBy ? r.country : null, r.active_customers, r.first_time_customers, r.orders, r.revenue_cents, r.average_order_value_cents]);
          expect(sortRows(actual), `${interval} ${groupBy} ${JSON.stringify(opts)}`).toEqual(referenceActivity(lines, interval, { ...opts, groupBy }));
        }
      }
    }
  });

  it("cohorts: new and active users by week and month", async () => {
    const lines = await linesOf([owner.project.id]);
    for (const interval of ["week", "month"]) {
      for (const userType of ["new", "active"]) {
        const rows = await get(owner.apiKey.key, `user_cohorts?grouping_interval=${interval}&user_type=${userType}`);
        expect(sortRows(rows.map((r) => [r.cohort_on, r.activity_on, r.user_count]))).toEqual(referenceCohorts(lines, interval, userType));
      }
    }
  });

  it("lifecycles: by week and month, default and custom thresholds", async () => {
    const lines = await linesOf([owner.project.id]);
    const months = Array.from({ length: 14 }, (_, i) => iso(Date.UTC(2024, 3 + i, 1)));
    const mondays = Array.from({ length: 20 }, (_, i) => iso(t("2024-09-02") + i * 7 * DAY));
    for (const [interval, starts] of [["month", months], ["week", mondays]] as const) {
      for (const [dormant, lapsed] of [[30, 90], [14, 45]] as const) {
        const filters = [{ field: "activity_on", op: "range", min: starts[0]!, max: starts.at(-1)! }];
        const rows = await get(owner.apiKey.key, `user_lifecycles?grouping_interval=${interval}&dormant_after_days=${dormant}&lapsed_after_days=${lapsed}&${q(filters)}`);
        expect(sortRows(rows.map((r) => [r.activity_on, r.lifecycle_status, r.user_count])), `${interval} ${dormant}/${lapsed}`).toEqual(
          referenceLifecycles(lines, interval, starts, dormant, lapsed),
        );
      }
    }
  });

  it("the organization-wide view is both projects together; a project's key sees its own", async () => {
    const both = await linesOf([owner.project.id, second.id]);
    const rows = await get(owner.owner.token, "activity?grouping_interval=month&group_by=country");
    expect(sortRows(rows.map((r) => [r.activity_on, r.country, r.active_customers, r.first_time_customers, r.orders, r.revenue_cents, r.average_order_value_cents]))).toEqual(
      referenceActivity(both, "month", { groupBy: true }),
    );
    const cohorts = await get(owner.owner.token, "user_cohorts?user_type=active&grouping_interval=week");
    expect(sortRows(cohorts.map((r) => [r.cohort_on, r.activity_on, r.user_count]))).toEqual(referenceCohorts(both, "week", "active"));
    const narrowed = await get(owner.owner.token, `user_cohorts?project_id=${second.id}`);
    expect(sortRows(narrowed.map((r) => [r.cohort_on, r.activity_on, r.user_count]))).toEqual(referenceCohorts(await linesOf([second.id]), "month", "new"));
  });

  it("sees a new ingest on the next request", async () => {
    const before = await get(second.key, "activity?grouping_interval=overall");
    await waitForJob(second.key, (await ingest(second.key, second.id, [{ customer_id: "newcomer", order_date: "2025-09-09", amount: 12.34, country: "TR" }])).job_id);
    const after = await get(second.key, "activity?grouping_interval=overall");
    expect(after[0]).toMatchObject({ active_customers: before[0].active_customers + 1, first_time_customers: before[0].first_time_customers + 1, revenue_cents: before[0].revenue_cents + 1234 });
    expect(sortRows((await get(second.key, "user_cohorts")).map((r) => [r.cohort_on, r.activity_on, r.user_count]))).toEqual(referenceCohorts(await linesOf([second.id]), "month", "new"));
  });

  it("a new file and a deleted file are read as the customers they touched, exactly as a whole read", async () => {
    const t = await tenant();
    const stub = env.PURCHASE_HISTORY.get(env.PURCHASE_HISTORY.idFromName(t.project.id));
    type Held = { log: PurchaseLog };
    const held = () => runInDurableObject(stub, (h) => (h as unknown as Held).log);
    const expectSameAsWholeRead = async () => {
      const log = await held();
      const whole = (await readPurchaseLog(env.DB, t.project.id))!;
      expect(log.version).toBe(whole.version);
      expect(log.customerIds).toEqual(whole.customerIds);
      for (const column of ["customerStart", "day", "amountCents", "sharedOrder", "rowid", "file"] as const) expect([...log[column]], column).toEqual([...whole[column]]);
      // Order numbers differ (rebuilt customers take new ones); which lines share an order does not.
      const pairs = (l: PurchaseLog) => [...l.order].map((o, i) => [...l.order].indexOf(o, 0) === i);
      expect(pairs(log)).toEqual(pairs(whole));
      const country = log.dimensions.get("country")!;
      const read = (await readDimension(env.DB, t.project.id, whole, "country"))!;
      expect([...country.codes].map((c) => country.values[c])).toEqual([...read.codes].map((c) => read.values[c]));
    };
    const expectReference = async () => {
      const lines = await linesOf([t.project.id]);
      const rows = await get(t.apiKey.key, "activity?grouping_interval=month&group_by=country");
      expect(sortRows(rows.map((r) => [r.activity_on, r.country, r.active_customers, r.first_time_customers, r.orders, r.revenue_cents, r.average_order_value_cents]))).toEqual(
        referenceActivity(lines, "month", { groupBy: true }),
      );
      expect(sortRows((await get(t.apiKey.key, "user_cohorts?user_type=active")).map((r) => [r.cohort_on, r.activity_on, r.user_count]))).toEqual(referenceCohorts(lines, "month", "active"));
    };
    const first = await ingest(t.apiKey.key, t.project.id, history(5, 60));
    await waitForJob(t.apiKey.key, first.job_id);
    await get(t.apiKey.key, "activity?group_by=country");
    expect(await stub.warm(own(t.project.id))).toMatchObject({ source: "d1" });

    // Existing customers (c0..c9) buy again; new ones sort before, between and after them, some
    // past U+FFFF, where JavaScript's string order is not SQLite's.
    const newcomers = ["a-new", "c5x", "z-new", "\u{1F600}", "\uFFFD", "ç"].map((customer_id, i) => ({ customer_id, order_date: `2025-0${1 + i}-11`, amount: 5 + i, country: "DE" }));
    const second = await ingest(t.apiKey.key, t.project.id, [...history(6, 10), ...newcomers]);
    await waitForJob(t.apiKey.key, second.job_id);
    expect(await stub.warm(own(t.project.id))).toMatchObject({ source: "changes" });
    await expectSameAsWholeRead();
    await expectReference();

    const res = await call("DELETE", `/api/engine/files/${first.file_id}`, { token: t.owner.token });
    expect(res.status).toBe(204);
    expect(await stub.warm(own(t.project.id))).toMatchObject({ source: "changes" });
    await expectSameAsWholeRead();
    await expectReference();
    // Stored with its files' marks: after an eviction the next change is still read as a change.
    await runInDurableObject(stub, (h) => void ((h as unknown as { log: unknown }).log = null));
    await waitForJob(t.apiKey.key, (await ingest(t.apiKey.key, t.project.id, [{ customer_id: "c3", order_date: "2025-10-01", amount: 9, country: "TR" }])).job_id);
    expect(await stub.warm(own(t.project.id))).toMatchObject({ source: "changes" });
    await expectSameAsWholeRead();
    await expectReference();
  }, 60_000);

  it("is read ahead after ingest, and comes back from its own storage after an eviction", async () => {
    const t = await tenant();
    const stub = env.PURCHASE_HISTORY.get(env.PURCHASE_HISTORY.idFromName(t.project.id));
    const heldVersion = () => runInDurableObject(stub, (history) => (history as unknown as { log: { version: number } | null }).log?.version ?? null);
    const currentVersion = async () => (await env.DB.prepare("SELECT purchases_version AS v FROM projects WHERE id = ?").bind(t.project.id).first<{ v: number }>())!.v;
    await waitForJob(t.apiKey.key, (await ingest(t.apiKey.key, t.project.id, history(3, 20))).job_id);
    // The segmentation run that follows the ingest reads the history before anyone asks.
    await vi.waitFor(async () => expect(await heldVersion()).toBe(await currentVersion()), { timeout: 20_000, interval: 100 });
    const cohorts = await get(t.apiKey.key, "user_cohorts?user_type=active");

    await runInDurableObject(stub, (history) => void ((history as unknown as { log: unknown }).log = null));
    expect(await stub.warm(own(t.project.id))).toMatchObject({ source: "storage", version: await currentVersion() });
    expect(await get(t.apiKey.key, "user_cohorts?user_type=active")).toEqual(cohorts);
    const byCountry = await get(t.apiKey.key, "activity?group_by=country");
    await runInDurableObject(stub, (history) => void ((history as unknown as { log: unknown }).log = null));
    expect(await stub.warm(own(t.project.id))).toMatchObject({ source: "storage" });
    // The stored country column came back too: the answer needs no read from D1.
    expect(await runInDurableObject(stub, (history) => [...(history as unknown as { log: { dimensions: Map<string, unknown> } }).log.dimensions.keys()])).toEqual(["country"]);
    expect(await get(t.apiKey.key, "activity?group_by=country")).toEqual(byCountry);

    // Stored but stale: a newer version is read from D1.
    await runInDurableObject(stub, (history) => void ((history as unknown as { log: unknown }).log = null));
    await env.DB.prepare("UPDATE transactions SET amount_cents = amount_cents + 1 WHERE rowid = (SELECT MIN(rowid) FROM transactions WHERE project_id = ?)").bind(t.project.id).run();
    expect(await stub.warm(own(t.project.id))).toMatchObject({ source: "d1", version: await currentVersion() });
    // The warm-up read the country column again for the new lines: it was asked for before.
    expect(await runInDurableObject(stub, (history) => [...(history as unknown as { log: { dimensions: Map<string, unknown> } }).log.dimensions.keys()])).toEqual(["country"]);
    expect(sortRows((await get(t.apiKey.key, "user_cohorts?user_type=active")).map((r) => [r.cohort_on, r.activity_on, r.user_count]))).toEqual(
      referenceCohorts(await linesOf([t.project.id]), "month", "active"),
    );
  });

  it("answers 422 when a group_by key has more distinct values than a dimension holds", async () => {
    const t = await tenant();
    const records = (from: number) => Array.from({ length: 5_001 }, (_, i) => ({ customer_id: `c${i % 50}`, order_date: "2025-05-05", amount: 1, sku: `sku-${from + i}` }));
    for (const batch of [records(0), records(5_001)]) await waitForJob(t.apiKey.key, (await ingest(t.apiKey.key, t.project.id, batch)).job_id, 30_000);
    const res = await call("GET", "/api/crm/analytics/activity?group_by=sku", { token: t.apiKey.key });
    expect(res.status).toBe(422);
    const body = await json(res);
    expect(body).toMatchObject({ code: "result_too_large", detail: { project_id: t.project.id } });
    expect(body.detail.reason).toContain("distinct values");
    // The limit comes back from the Durable Object as a value: thrown across RPC, workerd would report
    // an unhandled rejection even though the caller handles it.
    const stub = env.PURCHASE_HISTORY.get(env.PURCHASE_HISTORY.idFromName(t.project.id));
    const version = (await env.DB.prepare("SELECT purchases_version AS v FROM projects WHERE id = ?").bind(t.project.id).first<{ v: number }>())!.v;
    expect(await stub.activity({ ...own(t.project.id), version }, "overall", "sku", [])).toMatchObject({ limit: { kind: "crm-limit:answer" } });
    // The project itself still answers.
    expect((await get(t.apiKey.key, "activity?grouping_interval=overall"))[0]).toMatchObject({ active_customers: 50, orders: 10_002 });
  }, 60_000);

  it("forgets a deleted project's history, in memory and in storage", async () => {
    const t = await tenant();
    await waitForJob(t.apiKey.key, (await ingest(t.apiKey.key, t.project.id, history(4, 5))).job_id);
    const stub = env.PURCHASE_HISTORY.get(env.PURCHASE_HISTORY.idFromName(t.project.id));
    expect(((await stub.warm(own(t.project.id))) as { lines: number }).lines).toBeGreaterThan(0);
    const res = await call("DELETE", `/api/projects/${t.project.id}`, { token: t.owner.token });
    expect(res.status).toBe(204);
    await vi.waitFor(async () =>
      expect(await runInDurableObject(stub, (_, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM log_chunks").one().n)).toBe(0),
    );
    expect(await runInDurableObject(stub, (h) => (h as unknown as { log: unknown }).log)).toBeNull();
  });

  it("reads the same log and dimension page by page as in one read", async () => {
    const whole = (await readPurchaseLog(env.DB, owner.project.id))!;
    const paged = (await readPurchaseLog(env.DB, owner.project.id, 7))!;
    expect(whole.day.length).toBeGreaterThan(100);
    for (const column of ["customerStart", "day", "amountCents", "order", "sharedOrder", "rowid"] as const) expect([...paged[column]]).toEqual([...whole[column]]);
    const refusal = await readPurchaseLog(env.DB, owner.project.id, 7, whole.day.length - 1).catch((error: unknown) => error);
    expect(limitOf(refusal)?.kind).toBe("crm-limit:lines");
    expect(await readPurchaseLog(env.DB, "proj_gone")).toBeNull();
    const dimension = await readDimension(env.DB, owner.project.id, paged, "country", 7);
    expect(dimension).not.toBeNull();
    expect([...dimension!.codes].map((c) => dimension!.values[c])).toEqual([...(await readDimension(env.DB, owner.project.id, whole, "country"))!.codes].map((c) => dimension!.values[c]));
  });
});

describe("CRM analytics of a project split across objects by customer", () => {
  it("adds the parts up exactly, keeps them current, splits anew when a part outgrows its object, and refuses past the plan's limit", async () => {
    const t = await tenant();
    await waitForJob(t.apiKey.key, (await ingest(t.apiKey.key, t.project.id, history(8, 80))).job_id);
    // One object holds 90 lines here, so parts are planned at 60: the project's ~350 lines make six or so.
    const small = { ...env, CRM_OBJECT_LINES: "90" };
    const scope = { organizationId: t.organization.id, projectId: t.project.id };
    const months = Array.from({ length: 14 }, (_, i) => iso(Date.UTC(2024, 3 + i, 1)));
    const expectReference = async () => {
      const lines = await linesOf([t.project.id]);
      const monthly = await activity(small, scope, { interval: "month", groupBy: "country", conditions: [] });
      expect(sortRows(monthly.map((r: any) => [r.activity_on, r.country, r.active_customers, r.first_time_customers, r.orders, r.revenue_cents, r.average_order_value_cents]))).toEqual(
        referenceActivity(lines, "month", { groupBy: true }),
      );
      const overall = await activity(small, scope, { interval: "overall", conditions: [] });
      expect(sortRows(overall.map((r: any) => [r.activity_on, null, r.active_customers, r.first_time_customers, r.orders, r.revenue_cents, r.average_order_value_cents]))).toEqual(
        referenceActivity(lines, "overall", { groupBy: false }),
      );
      const cohorts = await userCohorts(small, scope, { interval: "week", userType: "active", conditions: [] });
      expect(sortRows(cohorts.map((r) => [r.cohort_on, r.activity_on, r.user_count]))).toEqual(referenceCohorts(lines, "week", "active"));
      const range = [{ field: "activity_on", op: "range", min: months[0]!, max: months.at(-1)! }] as CrmCondition[];
      const stages = await userLifecycles(small, scope, { interval: "month", dormantAfterDays: 30, lapsedAfterDays: 90, conditions: range });
      expect(sortRows(stages.map((r) => [r.activity_on, r.lifecycle_status, r.user_count]))).toEqual(referenceLifecycles(lines, "month", months, 30, 90));
    };
    const projectObject = env.PURCHASE_HISTORY.get(env.PURCHASE_HISTORY.idFromName(t.project.id));
    const plan = () => runInDurableObject(projectObject, (_, state) => JSON.parse(state.storage.sql.exec<{ plan: string }>("SELECT plan FROM shard_plan").one().plan) as ShardPlan);
    const partCustomers = async (p: ShardPlan) =>
      Promise.all(
        planParts(t.project.id, 0, 90, p).map((part) =>
          runInDurableObject(env.PURCHASE_HISTORY.get(env.PURCHASE_HISTORY.idFromName(historyName(part))), (h) => (h as unknown as { log: PurchaseLog | null }).log?.customerIds ?? []),
        ),
      );
    const distinctCustomers = async () =>
      (await env.DB.prepare("SELECT DISTINCT customer_id AS id FROM transactions WHERE project_id = ? AND is_return = 0 ORDER BY 1").bind(t.project.id).all<{ id: string }>()).results.map((r) => r.id);

    await expectReference();
    const first = await plan();
    expect(first.bounds.length).toBeGreaterThanOrEqual(4);
    // Every customer in exactly one part, the parts in customer order.
    const parts = await partCustomers(first);
    expect(parts.flat()).toEqual(await distinctCustomers());
    parts.slice(1).forEach((ids, i) => expect(ids[0]).toBe(first.bounds[i]));

    // A new file reaches the parts it touches, read as changes.
    const few = ["c3", "c40", "c77", "new-1", "c40"].map((customer_id, i) => ({ customer_id, order_date: `2025-07-0${1 + i}`, amount: 3 + i, country: "US" }));
    await waitForJob(t.apiKey.key, (await ingest(t.apiKey.key, t.project.id, few)).job_id);
    await expectReference();
    expect(await plan()).toEqual(first);

    // One customer buys more than a part holds: the project is planned again.
    const burst = Array.from({ length: 70 }, (_, i) => ({ customer_id: "c1", order_date: "2025-08-08", amount: 1 + i, order_id: `burst-${i}`, country: "TR" }));
    await waitForJob(t.apiKey.key, (await ingest(t.apiKey.key, t.project.id, burst)).job_id);
    await expect(activity(small, scope, { interval: "overall", conditions: [] })).rejects.toMatchObject({ code: "project_too_large" });
    const bigger = { ...env, CRM_OBJECT_LINES: "150" };
    const lines = await linesOf([t.project.id]);
    expect(sortRows((await activity(bigger, scope, { interval: "overall", conditions: [] })).map((r: any) => [r.activity_on, null, r.active_customers, r.first_time_customers, r.orders, r.revenue_cents, r.average_order_value_cents]))).toEqual(
      referenceActivity(lines, "overall", { groupBy: false }),
    );
    const second = await plan();
    expect(second.id).toBeGreaterThan(first.id);
    expect((await partCustomers(second)).flat()).toEqual(await distinctCustomers());
    // The old parts forgot their lines.
    expect((await partCustomers(first)).flat()).toEqual([]);

    // Past MAX_SHARDS objects of a part's lines: 422.
    await expect(activity({ ...env, CRM_OBJECT_LINES: "2" }, scope, { interval: "overall", conditions: [] })).rejects.toMatchObject({ code: "project_too_large" });

    // Deleting the project forgets every part.
    expect((await call("DELETE", `/api/projects/${t.project.id}`, { token: t.owner.token })).status).toBe(204);
    expect((await partCustomers(second)).flat()).toEqual([]);
  }, 90_000);
});
