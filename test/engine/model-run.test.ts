import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { abcCategories, type AbcCategory } from "../../src/engine/abc";
import { groupBgNbdData } from "../../src/engine/bgnbd";
import { customerColumns, CustomerColumnsBuilder } from "../../src/engine/customer-columns";
import type { CustomerAggregate } from "../../src/engine/rfm";
import { CustomerScorer, fitSegmentation, segmentCustomers, type SegmentationModel } from "../../src/engine/segmentation";
import { generatedCustomers } from "./generated-customers";

/** The CDNOW sample of the fixture as per-customer aggregates, in customer_id order. */
function cdnowSample(): CustomerAggregate[] {
  const byCustomer = new Map<string, { first: number; last: number; orders: number; days: Set<number>; cents: number }>();
  for (const line of env.TEST_CDNOW_SAMPLE.split("\n")) {
    const [id, , date, , dollars] = line.trim().split(/\s+/);
    if (!id || !date) continue;
    const at = Date.UTC(+date.slice(0, 4), +date.slice(4, 6) - 1, +date.slice(6, 8));
    let c = byCustomer.get(id);
    if (!c) byCustomer.set(id, (c = { first: at, last: at, orders: 0, days: new Set(), cents: 0 }));
    c.first = Math.min(c.first, at);
    c.last = Math.max(c.last, at);
    c.orders++;
    c.days.add(at);
    c.cents += Math.round(Number(dollars) * 100);
  }
  return [...byCustomer]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([customerId, c]) => ({ customerId, firstPurchaseAt: c.first, lastPurchaseAt: c.last, lastTransactionAt: c.last, frequency: c.orders, purchaseDays: c.days.size, monetaryCents: c.cents, returnRate: 0, extraFeatures: null }));
}

async function sha256(value: unknown) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(value)));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function digests(profiles: ReturnType<typeof segmentCustomers>["profiles"]) {
  return {
    labels: await sha256(profiles.map((p) => p.cluster)),
    abc: await sha256(profiles.map((p) => p.abcCategory)),
    churn: await sha256(profiles.map((p) => [p.recencyDays, p.churnScore, p.churnRisk, p.expectedPurchases90d])),
    embeddings: await sha256(profiles.map((p) => p.embedding)),
  };
}

// Whole model runs over thousands of customers: seconds each on a busy machine.
describe("the model run in pages gives the results of the single-pass engine", { timeout: 60_000 }, () => {
  // Recorded from the engine before runs were split into pages (commit 9a0d436, segmentCustomers on
  // the same inputs, in workerd): the split changes where numbers are computed, not one bit of them.
  it("on the CDNOW sample: the same k, segments, BG/NBD parameters and every profile", async () => {
    const result = segmentCustomers(cdnowSample());
    expect(result.clusters.map((c) => [c.label, c.size])).toEqual([["About to Sleep", 918], ["Loyal Customers", 418], ["Need Attention", 734], ["Potential Loyalists", 150], ["Champions", 137]]);
    expect(result.churnModel).toEqual({ r: 0.253561, alpha: 5.447258, a: 0.607365, b: 2.647234, log_likelihood: -17138.234, time_unit: "week", customers: 2357, converged: true });
    expect(await digests(result.profiles)).toEqual({
      labels: "c8c61fcbe9722c264043b7668d5a41865023c04b6b4be0ab680e0acbfcd512e7",
      abc: "a96305439a3933c9e6975772d9dc1f60767880a29e237da9a8474524b8f2bd6a",
      churn: "de1eb013df3dc583c66027acb9a6c6fa19d8e3fb8a1d91c8f180eefed1953435",
      embeddings: "98b071ef7e228e9045a6b5928d96a62b6147fc1471062b6d54c3f44c56df1c02",
    });
  });

  it("on 20,000 generated customers with returns, extra features and tied amounts", async () => {
    const result = segmentCustomers(generatedCustomers(20_000));
    expect(result.clusters.map((c) => [c.label, c.size])).toEqual([["About to Sleep", 9676], ["Champions", 1856], ["Loyal Customers", 6920], ["Hibernating", 1548]]);
    expect(result.embeddingFeatures).toEqual(["log_recency_days", "log_frequency", "log_monetary", "return_rate", "churn_score", "extra_features.visits"]);
    // These customers barely drop out, so a and b run off to large values (the likelihood is flat
    // there): the exact digits depend on the JavaScript engine's Math, hence recorded in workerd.
    expect(result.churnModel).toEqual({ r: 0.249754, alpha: 1.829196, a: 1022117.819847, b: 30353900.861053, log_likelihood: -222759.8076, time_unit: "week", customers: 19801, converged: true });
    expect(await digests(result.profiles)).toEqual({
      labels: "55de7f2bca5c6fda6c7e5f0d6845349865b9bc40df146e9761a639780d12a3e4",
      abc: "8c60817231ff5f059db9f35797f206eda0c83cf9b4da8419dc8781ddbce50066",
      churn: "b8dc7d75d409ab577c5071a08b0f14493be6ada2ae0b126d92ec19aa398cbd54",
      embeddings: "7b43a4769b4e04bc14664316babe944b9cc928414af74acb1aa19ed2a0488432",
    });
  });

  it("profiles page by page, resuming from a stored model and progress, exactly as in one pass", () => {
    const customers = generatedCustomers(3_000, 11);
    const whole = segmentCustomers(customers);
    // Columns built a row at a time from a tiny capacity (so they grow), the model through JSON (as
    // the checkpoint stores it), and the scorer restarted every 700 customers from its progress.
    const builder = new CustomerColumnsBuilder(1);
    for (const c of customers) builder.add(c);
    const model: SegmentationModel = JSON.parse(JSON.stringify(fitSegmentation(builder.finish())));
    const profiles = [];
    let progress: CustomerScorer["progress"] | undefined;
    for (let start = 0; start < customers.length; start += 700) {
      const scorer = new CustomerScorer(JSON.parse(JSON.stringify(model)), progress && JSON.parse(JSON.stringify(progress)));
      for (const c of customers.slice(start, start + 700)) profiles.push(scorer.score(c));
      progress = scorer.progress;
    }
    expect(profiles).toEqual(whole.profiles);
    expect(model.clusters).toEqual(whole.clusters);
  });

  it("gives a profile of the nearest centre that is K-Means' own label, cluster sizes included", () => {
    const customers = generatedCustomers(5_000, 12);
    const model = fitSegmentation(customerColumns(customers));
    const scorer = new CustomerScorer(model);
    const sizes = new Array(model.clusters.length).fill(0);
    for (const c of customers) sizes[scorer.score(c).cluster]++;
    expect(sizes).toEqual(model.clusters.map((c) => c.size));
  });
});

/** ABC as it was computed before boundaries: a sort of all customers (the reference). */
function abcBySort(monetary: number[]): AbcCategory[] {
  const categories: AbcCategory[] = new Array(monetary.length).fill("C");
  const total = monetary.reduce((s, v) => s + Math.max(0, v), 0);
  if (total <= 0) return categories;
  const order = monetary.map((_, i) => i).sort((x, y) => monetary[y]! - monetary[x]! || x - y);
  let before = 0;
  for (const i of order) {
    if (monetary[i]! <= 0) break;
    const share = before / total;
    categories[i] = share < 0.8 ? "A" : share < 0.95 ? "B" : "C";
    before += monetary[i]!;
  }
  return categories;
}

describe("ABC from boundaries", () => {
  it("matches a sort of all customers, ties at a boundary included", () => {
    // Few distinct values, so customers tie across the 80% and 95% boundaries.
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -3, max: 6 }), { maxLength: 60 }), (values) => {
        expect(abcCategories(values)).toEqual(abcBySort(values));
      }),
      { numRuns: 500, seed: 16 },
    );
    expect(abcCategories([5, 5, 5, 5, 5])).toEqual(["A", "A", "A", "A", "B"]);
  });
});

describe("BG/NBD data", () => {
  it("groups equal (x, t_x, T) in first-seen order, with each row's x index", () => {
    const data = groupBgNbdData([1, 0, 1, 2, 0, 1], [2, 0, 2, 3, 0, 2], [5, 4, 5, 6, 4, 7]);
    expect(Array.from(data.x)).toEqual([1, 0, 2, 1]);
    expect(Array.from(data.T)).toEqual([5, 4, 6, 7]);
    expect(Array.from(data.weight)).toEqual([2, 2, 1, 1]);
    expect(Array.from(data.distinctX)).toEqual([1, 0, 2]);
    expect(Array.from(data.xIndex)).toEqual([0, 1, 2, 0]);
    // Many rows: the hash table probes past collisions without merging distinct rows.
    const n = 5_000;
    const many = groupBgNbdData(Array.from({ length: n }, (_, i) => i % 7), Array.from({ length: n }, (_, i) => (i % 11) / 7), Array.from({ length: n }, (_, i) => i % 13));
    expect(many.x.length).toBe(7 * 11 * 13);
    expect(many.weight.reduce((s, w) => s + w, 0)).toBe(n);
  });
});
