import { env } from "cloudflare:workers";
import type { SegmentationMessage } from "../../src/queues/messages";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { plans } from "../../src/billing/plans";
import { seededRandom } from "../../src/engine/random";
import { call, consumeOne, d1RefusingBatches, expectError, json, tenant } from "../helpers";
import { ingest, waitForJob } from "../ingest/helpers";

type Tenant = Awaited<ReturnType<typeof tenant>>;

/** Customers of distinct kinds over two years, so clusters and churn have something to find. */
function shopHistory(customers: number, seed = 3) {
  const random = seededRandom(seed);
  const end = Date.UTC(2025, 11, 31);
  const day = 86_400_000;
  const records: Array<Record<string, unknown>> = [];
  for (let c = 0; c < customers; c++) {
    const kind = c % 4; // 0 loyal big spenders, 1 recent newcomers, 2 lapsed one-timers, 3 occasional
    const orders = kind === 0 ? 8 + Math.floor(random() * 8) : kind === 3 ? 2 + Math.floor(random() * 3) : 1;
    const start = kind === 1 ? end - 30 * day : end - 700 * day;
    const span = kind === 2 ? 60 * day : end - start;
    for (let o = 0; o < orders; o++) {
      const at = new Date(start + random() * span);
      records.push({
        customer_id: `cust-${String(c).padStart(4, "0")}`,
        order_date: at.toISOString().slice(0, 10),
        amount: Math.round((kind === 0 ? 80 + random() * 200 : 10 + random() * 40) * 100) / 100,
        country: ["TR", "DE", "US"][c % 3],
        visits: kind * 10 + Math.floor(random() * 5),
      });
    }
  }
  return records;
}

async function waitForSegmentation(t: Tenant) {
  let overview: any;
  await vi.waitFor(
    async () => {
      overview = await json(await call("GET", `/api/engine/projects/${t.project.id}/overview`, { token: t.owner.token }));
      expect(overview.last_run?.status).toBe("completed");
    },
    { timeout: 30_000, interval: 200 },
  );
  return overview;
}

describe("segmentation end to end", () => {
  let t: Tenant;
  let overview: any;
  beforeAll(async () => {
    t = await tenant();
    const accepted = await ingest(t.apiKey.key, t.project.id, shopHistory(240));
    await waitForJob(t.apiKey.key, accepted.job_id);
    overview = await waitForSegmentation(t);
  }, 60_000);

  it("profiles every customer and reports the run on the overview", async () => {
    expect(overview).toMatchObject({ state: "modelled", customers: { total: 240, profiled: 240 } });
    expect(overview.churn_model).toMatchObject({ time_unit: "week" });
    for (const key of ["r", "alpha", "a", "b"]) expect(overview.churn_model[key]).toBeGreaterThan(0);
    const { low, medium, high, unscored } = overview.churn.distribution;
    expect(low + medium + high + unscored).toBe(240);
    expect(overview.abc.A.revenue_share).toBeGreaterThan(0.5);
    expect(overview.last_run.k).toBeGreaterThanOrEqual(2);
    expect(overview.segments.reduce((s: number, x: { size: number }) => s + x.size, 0)).toBe(240);
  });

  it("records k, inertia and silhouette per k, and the churn model on the job", async () => {
    const job = await json(await call("GET", `/api/engine/jobs/${overview.last_run.job_id}/status`, { token: t.owner.token }));
    expect(job.type).toBe("segmentation");
    expect(Object.keys(job.result.inertia_by_k).length).toBeGreaterThanOrEqual(5);
    expect(Object.keys(job.result.silhouette_by_k)).toEqual(Object.keys(job.result.inertia_by_k));
    expect(job.result.k).toBe(job.result.segments.length);
    expect(job.result.churn_model.log_likelihood).toBeLessThan(0);
    const counted = await env.DB.prepare("SELECT model_runs FROM usage_counters WHERE organization_id = ?").bind(t.organization.id).first<{ model_runs: number }>();
    expect(counted!.model_runs).toBeGreaterThanOrEqual(1);
  });

  it("lists cluster segments with unique labels and centroids", async () => {
    const { segments } = await json(await call("GET", `/api/engine/projects/${t.project.id}/segments`, { token: t.apiKey.key }));
    const clusters = segments.filter((s: { kind: string }) => s.kind === "cluster");
    expect(new Set(clusters.map((s: { name: string }) => s.name)).size).toBe(clusters.length);
    for (const s of clusters) expect(Object.keys(s.centroid).sort()).toEqual(["frequency", "monetary", "recency_days", "return_rate"]);
  });

  it("keeps segment ids and labels when the same data is run again", async () => {
    const before = (await json(await call("GET", `/api/engine/projects/${t.project.id}/segments`, { token: t.owner.token }))).segments;
    const res = await call("POST", `/api/engine/projects/${t.project.id}/segmentation`, { token: t.owner.token });
    expect(res.status).toBe(202);
    const { job_id } = await json(res);
    const job = await waitForJob(t.owner.token, job_id, 30_000);
    expect(job.status).toBe("completed");
    const after = (await json(await call("GET", `/api/engine/projects/${t.project.id}/segments`, { token: t.owner.token }))).segments;
    const pairs = (list: Array<{ id: string; name: string }>) => list.map((s) => `${s.id}:${s.name}`).sort();
    expect(pairs(after)).toEqual(pairs(before));
  });

  it("lists customers in the seed's shape with sorting, simple filters, JSON filters and pagination", async () => {
    const page = await json(await call("GET", `/api/engine/projects/${t.project.id}/customers?limit=2&sort_by=rfm_monetary&sort_dir=desc`, { token: t.apiKey.key }));
    expect(Object.keys(page).sort()).toEqual(["customers", "page", "pages", "total"]);
    expect(page).toMatchObject({ total: 240, page: 1, pages: 120 });
    expect(page.customers[0].rfm_monetary).toBeGreaterThanOrEqual(page.customers[1].rfm_monetary);
    expect(page.customers[0]).toMatchObject({ customer_id_hash: expect.stringMatching(/^CUST_[0-9A-F]{8}$/), extra_features: { country: expect.any(String) } });
    const high = await json(await call("GET", `/api/engine/projects/${t.project.id}/customers?churn_risk=high&limit=500`, { token: t.apiKey.key }));
    expect(high.customers.every((c: { churn_risk: string }) => c.churn_risk === "high")).toBe(true);
    const filters = encodeURIComponent(JSON.stringify([
      { field: "rfm_monetary", op: "range", min: 100 },
      { field: "extra_features.country", op: "in", values: ["TR", "DE"] },
    ]));
    const rich = await json(await call("GET", `/api/engine/projects/${t.project.id}/customers?filters=${filters}&limit=500`, { token: t.apiKey.key }));
    expect(rich.total).toBeGreaterThan(0);
    expect(rich.customers.every((c: any) => c.rfm_monetary >= 100 && ["TR", "DE"].includes(c.extra_features.country))).toBe(true);
    const second = await json(await call("GET", `/api/engine/projects/${t.project.id}/customers?limit=100&page=2&sort_by=customer_id&sort_dir=asc`, { token: t.apiKey.key }));
    expect(second.customers[0].customer_id).toBe("cust-0100");
    const beyond = await json(await call("GET", `/api/engine/projects/${t.project.id}/customers?page=99`, { token: t.apiKey.key }));
    expect(beyond.customers).toEqual([]);
  });

  it("gets one customer and its most similar customers", async () => {
    const page = await json(await call("GET", `/api/engine/projects/${t.project.id}/customers?limit=1&sort_by=customer_id&sort_dir=asc`, { token: t.apiKey.key }));
    const id = page.customers[0].id;
    const one = await json(await call("GET", `/api/engine/customers/${id}`, { token: t.owner.token }));
    expect(one.customer_id).toBe("cust-0000");
    const similar = await json(await call("GET", `/api/engine/customers/${id}/similar?limit=5`, { token: t.apiKey.key }));
    expect(similar.similar).toHaveLength(5);
    expect(similar.similar.map((s: { id: string }) => s.id)).not.toContain(id);
    const scores = similar.similar.map((s: { similarity: number }) => s.similarity);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(similar.features).toContain("log_monetary");
    expect(similar.features).toContain("extra_features.visits");
    // Customer 0 is a loyal big spender: its neighbours are mostly of the same kind (ids ≡ 0 mod 4).
    const sameKind = similar.similar.filter((s: { customer_id: string }) => Number(s.customer_id.slice(5)) % 4 === 0).length;
    expect(sameKind).toBeGreaterThanOrEqual(4);
  });

  it("previews, creates, updates and deletes rule and hybrid segments", async () => {
    const rules = [{ field: "rfm_frequency", op: "gte", value: 8 }];
    const preview = await json(await call("POST", `/api/engine/projects/${t.project.id}/segments/preview`, { token: t.apiKey.key, body: { rules } }));
    expect(preview.count).toBe(60);
    expect(preview.sample.length).toBe(20);
    const created = await call("POST", `/api/engine/projects/${t.project.id}/segments`, { token: t.owner.token, body: { name: "Frequent", rules } });
    expect(created.status).toBe(201);
    const segment = await json(created);
    expect(segment).toMatchObject({ kind: "rule", size: 60, rules });
    const members = await json(await call("GET", `/api/engine/projects/${t.project.id}/customers?segment_id=${segment.id}&limit=500`, { token: t.owner.token }));
    expect(members.total).toBe(60);

    const cluster = (await json(await call("GET", `/api/engine/projects/${t.project.id}/segments`, { token: t.owner.token }))).segments.find((s: { kind: string }) => s.kind === "cluster");
    const hybrid = await json(await call("POST", `/api/engine/projects/${t.project.id}/segments`, {
      token: t.owner.token,
      body: { name: "Cluster and TR", rules: [{ field: "extra_features.country", op: "eq", value: "TR" }], cluster_segment_id: cluster.id },
    }));
    expect(hybrid.kind).toBe("hybrid");
    expect(hybrid.size).toBeLessThanOrEqual(cluster.size);

    const updated = await json(await call("PATCH", `/api/engine/segments/${segment.id}`, { token: t.owner.token, body: { name: "Very frequent", rules: [{ field: "rfm_frequency", op: "gte", value: 12 }] } }));
    expect(updated.name).toBe("Very frequent");
    expect(updated.size).toBeLessThan(60);
    await expectError(await call("PATCH", `/api/engine/segments/${cluster.id}`, { token: t.owner.token, body: { rules } }), 400, "validation_error");
    expect((await call("PATCH", `/api/engine/segments/${cluster.id}`, { token: t.owner.token, body: { name: "Our best" } })).status).toBe(200);
    await expectError(await call("DELETE", `/api/engine/segments/${cluster.id}`, { token: t.owner.token }), 409, "conflict");
    expect((await call("DELETE", `/api/engine/segments/${segment.id}`, { token: t.owner.token })).status).toBe(204);
    await expectError(await call("DELETE", `/api/engine/segments/${segment.id}`, { token: t.owner.token }), 404, "not_found");
  });

  it("writes a daily membership snapshot of every segment", async () => {
    const { results } = await env.DB.prepare("SELECT segment_id, COUNT(*) AS n FROM segment_membership_snapshots WHERE project_id = ? GROUP BY segment_id").bind(t.project.id).all<{ n: number }>();
    expect(results.length).toBeGreaterThanOrEqual(2);
    expect(results.filter((r) => r.n > 0).length).toBe(results.length);
  });

  it("refuses bad conditions and out-of-range paging with 400, and injection attempts change nothing", async () => {
    const base = `/api/engine/projects/${t.project.id}`;
    const bad: unknown[] = [
      [{ field: "password", op: "eq", value: 1 }],
      [{ field: "rfm_monetary", op: "like", value: 1 }],
      [{ field: "rfm_monetary", op: "range" }],
      [{ field: "rfm_monetary", op: "eq", value: "1; DROP TABLE customers" }],
      [{ field: "extra_features.x') OR 1=1 --", op: "eq", value: 1 }],
      [{ field: "churn_risk", op: "eq", value: "extreme" }],
      [{ field: "rfm_monetary", op: "contains", value: "1" }],
      { field: "rfm_monetary" },
    ];
    for (const rules of bad) {
      await expectError(await call("POST", `${base}/segments/preview`, { token: t.owner.token, body: { rules } }), 400, "validation_error");
    }
    const sneaky = await json(await call("POST", `${base}/segments/preview`, { token: t.owner.token, body: { rules: [{ field: "customer_id", op: "eq", value: "x' OR '1'='1" }] } }));
    expect(sneaky.count).toBe(0);
    for (const query of ["limit=0", "limit=501", "page=0", "sort_by=password", "sort_dir=sideways", "churn_risk=extreme", "churn_rsk=high", "rfm_monetary=1", "filters=%5B", "filters=%7B%7D", "segment_id=nope"]) {
      await expectError(await call("GET", `${base}/customers?${query}`, { token: t.owner.token }), 400, "validation_error");
    }
    await expectError(await call("GET", `/api/engine/customers/${crypto.randomUUID()}/similar?limit=101`, { token: t.owner.token }), 400, "validation_error");
    const { n } = (await env.DB.prepare("SELECT COUNT(*) AS n FROM customers WHERE project_id = ?").bind(t.project.id).first<{ n: number }>())!;
    expect(n).toBe(240);
  });

  it("keeps other tenants' customers and segments out of reach (404)", async () => {
    const other = await tenant();
    const page = await json(await call("GET", `/api/engine/projects/${t.project.id}/customers?limit=1`, { token: t.owner.token }));
    const segmentId = (await json(await call("GET", `/api/engine/projects/${t.project.id}/segments`, { token: t.owner.token }))).segments[0].id;
    for (const token of [other.owner.token, other.apiKey.key]) {
      await expectError(await call("GET", `/api/engine/customers/${page.customers[0].id}`, { token }), 404, "not_found");
      await expectError(await call("GET", `/api/engine/customers/${page.customers[0].id}/similar`, { token }), 404, "not_found");
    }
    await expectError(await call("PATCH", `/api/engine/segments/${segmentId}`, { token: other.owner.token, body: { name: "mine" } }), 404, "not_found");
    await expectError(await call("GET", `/api/engine/projects/${t.project.id}/overview`, { token: other.owner.token }), 404, "not_found");
    await expectError(await call("GET", `/api/engine/projects/${t.project.id}/overview`, { token: other.apiKey.key }), 403, "project_mismatch");
    await expectError(await call("POST", `/api/engine/projects/${t.project.id}/segmentation`, { token: other.owner.token }), 404, "not_found");
  });
});

describe("projects with little data", () => {
  it("reports an empty project clearly, and a run over it completes with state empty", async () => {
    const t = await tenant();
    const overview = await json(await call("GET", `/api/engine/projects/${t.project.id}/overview`, { token: t.owner.token }));
    expect(overview).toMatchObject({ state: "empty", customers: { total: 0 }, churn_model: null, last_run: null, segments: [] });
    const { job_id } = await json(await call("POST", `/api/engine/projects/${t.project.id}/segmentation`, { token: t.owner.token }));
    const job = await waitForJob(t.owner.token, job_id, 30_000);
    expect(job.result).toMatchObject({ state: "empty", customers: 0, k: 0, churn_model: null, churn_note: "no customers yet" });
    const customers = await json(await call("GET", `/api/engine/projects/${t.project.id}/customers`, { token: t.owner.token }));
    expect(customers).toEqual({ customers: [], total: 0, page: 1, pages: 0 });
  });

  it("models a single customer without NaN: one segment, no churn model", async () => {
    const t = await tenant();
    const accepted = await ingest(t.apiKey.key, t.project.id, [
      { customer_id: "solo", order_date: "2025-01-01", amount: 10 },
      { customer_id: "solo", order_date: "2025-02-01", amount: 20 },
    ]);
    await waitForJob(t.apiKey.key, accepted.job_id);
    const overview = await waitForSegmentation(t);
    expect(overview.segments).toHaveLength(1);
    expect(overview.churn_model).toBeNull();
    expect(overview.last_run.churn_note).toMatch(/too few customers/);
    const { customers } = await json(await call("GET", `/api/engine/projects/${t.project.id}/customers`, { token: t.owner.token }));
    expect(customers[0]).toMatchObject({ churn_score: null, churn_risk: null, abc_category: "A", rfm_frequency: 2, rfm_recency_days: 0 });
    const text = JSON.stringify(customers[0]);
    expect(text).not.toContain("NaN");
  });

  it("refuses a rerun past the plan's monthly model runs (429 quota_exceeded)", async () => {
    const t = await tenant();
    await env.DB.prepare("INSERT INTO usage_counters (organization_id, period, model_runs, genai_ops) VALUES (?, ?, 5, 0)")
      .bind(t.organization.id, new Date().toISOString().slice(0, 7))
      .run();
    await expectError(await call("POST", `/api/engine/projects/${t.project.id}/segmentation`, { token: t.owner.token }), 429, "quota_exceeded");
  });
});

describe("model run limits", () => {
  it("takes the Pro plan's profiles, and refuses a larger project with a clear message", async () => {
    const { MAX_CUSTOMERS_PER_RUN, runSegmentation } = await import("../../src/queues/segmentation");
    expect(MAX_CUSTOMERS_PER_RUN).toBeGreaterThanOrEqual(plans.pro.quotas.profiles!);
    const t = await tenant();
    const jobId = crypto.randomUUID();
    await env.DB.prepare("INSERT INTO jobs (id, project_id, organization_id, type, status, created_at, updated_at) VALUES (?, ?, ?, 'segmentation', 'queued', 0, 0)")
      .bind(jobId, t.project.id, t.organization.id)
      .run();
    // The run counts customers before loading any: answer that count with one past the limit.
    const hugeProjectDb = new Proxy(env.DB, {
      get(target, prop, receiver) {
        if (prop !== "prepare") return Reflect.get(target, prop, receiver);
        return (query: string) =>
          query.startsWith("SELECT COUNT(*) AS n FROM customers WHERE project_id = ?") ? target.prepare(`SELECT ${MAX_CUSTOMERS_PER_RUN + 1} AS n WHERE ? IS NOT NULL`) : target.prepare(query);
      },
    });
    await runSegmentation({ ...env, DB: hugeProjectDb }, { kind: "segmentation", jobId, projectId: t.project.id, organizationId: t.organization.id });
    const status = await json(await call("GET", `/api/engine/jobs/${jobId}/status`, { token: t.owner.token }));
    expect(status).toMatchObject({ status: "failed", error_message: `the project has ${MAX_CUSTOMERS_PER_RUN + 1} customers; a model run takes at most ${MAX_CUSTOMERS_PER_RUN}` });
  });
});

describe("a model run that cannot succeed", () => {
  it("fails at once on an error retrying cannot fix, without the driver's words, instead of retrying into the dead-letter queue", async () => {
    const t = await tenant();
    const accepted = await ingest(t.apiKey.key, t.project.id, shopHistory(30, 3));
    await waitForJob(t.apiKey.key, accepted.job_id);
    await waitForSegmentation(t);
    const jobId = crypto.randomUUID();
    await env.DB.prepare("INSERT INTO jobs (id, project_id, organization_id, type, status, created_at, updated_at) VALUES (?, ?, ?, 'segmentation', 'queued', 0, 0)")
      .bind(jobId, t.project.id, t.organization.id)
      .run();
    // D1 refusing the profile writes the way it refuses an oversized value (the job's own writes pass).
    const refusing = d1RefusingBatches("D1_ERROR: string or blob too big: SQLITE_TOOBIG", "UPDATE customers SET rfm_recency_days");
    const message: SegmentationMessage = { kind: "segmentation", jobId, projectId: t.project.id, organizationId: t.organization.id };
    const result = await consumeOne("segmento-segmentation", message, { DB: refusing });
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toEqual(["m1"]);
    const job = await json(await call("GET", `/api/engine/jobs/${jobId}/status`, { token: t.owner.token }));
    expect(job.status).toBe("failed");
    expect(job.error_message).toMatch(/internal error that retrying cannot fix/);
    expect(job.error_message).not.toMatch(/D1|SQLITE|blob/);
  });

  it("still retries an error that may pass (the network, an overloaded database)", async () => {
    const t = await tenant();
    const jobId = crypto.randomUUID();
    await env.DB.prepare("INSERT INTO jobs (id, project_id, organization_id, type, status, created_at, updated_at) VALUES (?, ?, ?, 'segmentation', 'queued', 0, 0)")
      .bind(jobId, t.project.id, t.organization.id)
      .run();
    const flaky = d1RefusingBatches("D1_ERROR: Network connection lost.");
    const message: SegmentationMessage = { kind: "segmentation", jobId, projectId: t.project.id, organizationId: t.organization.id };
    const result = await consumeOne("segmento-segmentation", message, { DB: flaky }, "m2");
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["m2"]);
    const job = await json(await call("GET", `/api/engine/jobs/${jobId}/status`, { token: t.owner.token }));
    expect(job.status).not.toBe("failed");
  });
});

describe("a model run in pages", () => {
  it("resumes from its checkpoint after a crash and writes what a run in one page writes", async () => {
    const { runSegmentation } = await import("../../src/queues/segmentation");
    const t = await tenant();
    const accepted = await ingest(t.apiKey.key, t.project.id, shopHistory(240, 9));
    await waitForJob(t.apiKey.key, accepted.job_id);
    await waitForSegmentation(t); // the run after ingest: all 240 customers in one page
    const profiles = async () =>
      (
        await env.DB.prepare(
          "SELECT customer_id, rfm_recency_days, churn_score, churn_risk, expected_purchases_90d, abc_category, segment_id, segment_label, embedding FROM customers WHERE project_id = ? ORDER BY customer_id",
        )
          .bind(t.project.id)
          .all()
      ).results;
    const inOnePage = await profiles();
    await env.DB.prepare("UPDATE customers SET churn_score = NULL, abc_category = NULL, segment_id = NULL, segment_label = NULL, embedding = NULL WHERE project_id = ?").bind(t.project.id).run();

    const jobId = crypto.randomUUID();
    await env.DB.prepare("INSERT INTO jobs (id, project_id, organization_id, type, status, created_at, updated_at) VALUES (?, ?, ?, 'segmentation', 'queued', 0, 0)")
      .bind(jobId, t.project.id, t.organization.id)
      .run();
    const message = { kind: "segmentation" as const, jobId, projectId: t.project.id, organizationId: t.organization.id };
    // D1 that counts page reads and, when asked, fails the fourth batch: the fit's cluster segments,
    // two pages of 50 profiles, then the third page's write.
    const instrumented = (failBatch?: number) => {
      const counts = { pageReads: 0, batches: 0 };
      const d1 = new Proxy(env.DB, {
        get(target, prop, receiver) {
          if (prop === "prepare") {
            return (query: string) => {
              if (query.includes("ORDER BY customer_id LIMIT")) counts.pageReads++;
              return target.prepare(query);
            };
          }
          if (prop === "batch") {
            return (statements: D1PreparedStatement[]) => {
              if (++counts.batches === failBatch) return Promise.reject(new Error("D1 went away"));
              return target.batch(statements);
            };
          }
          return Reflect.get(target, prop, receiver);
        },
      });
      return { d1, counts };
    };
    const crashing = instrumented(4);
    await expect(runSegmentation({ ...env, DB: crashing.d1 }, message, { pageSize: 50 })).rejects.toThrow("D1 went away");
    const stopped = await env.DB.prepare("SELECT status, checkpoint FROM jobs WHERE id = ?").bind(jobId).first<{ status: string; checkpoint: string }>();
    expect(stopped!.status).toBe("processing");
    expect(JSON.parse(stopped!.checkpoint)).toMatchObject({ customers: 240, written: 100, after: inOnePage[99]!.customer_id });

    const resumed = instrumented();
    await runSegmentation({ ...env, DB: resumed.d1 }, message, { pageSize: 50 });
    // Only the pages after the checkpoint were read (100..149, 150..199, 200..239): no second fit.
    expect(resumed.counts.pageReads).toBe(3);
    expect(await profiles()).toEqual(inOnePage);
    const job = await json(await call("GET", `/api/engine/jobs/${jobId}/status`, { token: t.owner.token }));
    expect(job).toMatchObject({ status: "completed", attempts: 2, result: { customers: 240 } });
    const finished = await env.DB.prepare("SELECT checkpoint FROM jobs WHERE id = ?").bind(jobId).first<{ checkpoint: string | null }>();
    expect(finished!.checkpoint).toBeNull();
  }, 60_000);
});
