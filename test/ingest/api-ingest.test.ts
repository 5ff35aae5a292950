import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectError, json, tenant } from "../helpers";
import { customerRows, ingest, waitForJob } from "./helpers";

describe("POST /api/v1/ingest", () => {
  it("accepts records, answers 202, and the consumer turns them into customer aggregates", async () => {
    const t = await tenant();
    const records = [
      { customer_id: "C-1", order_date: "2026-05-01", amount: 129.9, country: "TR" },
      { customer_id: "C-1", order_date: "2026-05-03", amount: "20.10", country: "TR" },
      { customer_id: "C-1", order_date: "2026-05-04", amount: -20.1, country: "TR" },
      { customer_id: "C-2", order_date: "2026-05-02", amount: 0, country: "DE", plan: "gold" },
      { customer_id: "C-3", order_date: "not a date", amount: 10 },
      { customer_id: "", order_date: "2026-05-02", amount: 10 },
      { customer_id: "C-4", order_date: "2026-05-02", amount: "ten" },
    ];
    const accepted = await ingest(t.apiKey.key, t.project.id, records);
    expect(accepted.status).toBe("processing");
    const job = await waitForJob(t.apiKey.key, accepted.job_id);
    expect(job.status).toBe("completed");
    expect(job.result).toMatchObject({ rows_total: 7, rows_accepted: 4, rows_rejected: 3, customers: 2 });
    expect(job.result.rejections).toEqual([
      { row: 5, reason: expect.stringContaining("not in a supported format") },
      { row: 6, reason: "customer_id is empty" },
      { row: 7, reason: expect.stringContaining("not a number") },
    ]);
    const customers = await customerRows(t.project.id);
    expect(customers.map((c) => c.customer_id)).toEqual(["C-1", "C-2"]);
    expect(customers[0]).toMatchObject({ frequency: 2, purchases_cents: 15000, returns_cents: 2010, return_count: 1, monetary_cents: 12990, return_rate: 0.5, purchase_days: 2 });
    expect(JSON.parse(customers[0]!.extra_features)).toEqual({ country: "TR" });
    // A zero amount is a free order, counted as a purchase.
    expect(customers[1]).toMatchObject({ frequency: 1, monetary_cents: 0, return_count: 0 });
    expect(JSON.parse(customers[1]!.extra_features)).toEqual({ country: "DE", plan: "gold" });

    const file = await json(await call("GET", `/api/engine/files/${accepted.file_id}`, { token: t.apiKey.key }));
    expect(file).toMatchObject({ status: "completed", rowCount: 7, rowsAccepted: 4, rowsRejected: 3, source: "ingest", format: "csv" });
    const { r2_key } = (await env.DB.prepare("SELECT r2_key FROM files WHERE id = ?").bind(accepted.file_id).first<{ r2_key: string }>())!;
    const stored = await env.FILES.get(r2_key);
    expect((await stored!.text()).split("\n")[0]).toBe("customer_id,order_date,amount,country,plan");
  });

  it("is idempotent per batch_id: the same batch again returns the first job and ingests nothing twice", async () => {
    const t = await tenant();
    const records = [{ customer_id: "A", order_date: "2026-01-01", amount: 10 }];
    const first = await ingest(t.apiKey.key, t.project.id, records, "batch-1");
    const second = await ingest(t.apiKey.key, t.project.id, records, "batch-1");
    expect(second.job_id).toBe(first.job_id);
    expect(second.file_id).toBe(first.file_id);
    await waitForJob(t.apiKey.key, first.job_id);
    const third = await ingest(t.apiKey.key, t.project.id, records, "batch-1");
    expect(third).toMatchObject({ job_id: first.job_id, status: "completed" });
    const files = await json(await call("GET", `/api/engine/projects/${t.project.id}/files`, { token: t.owner.token }));
    expect(files.files).toHaveLength(1);
    expect((await customerRows(t.project.id))[0]).toMatchObject({ frequency: 1, monetary_cents: 1000 });
  });

  it("lets a failed batch be sent again under its batch_id, and refuses a different payload under an accepted one (409 naming the first job)", async () => {
    const t = await tenant();
    const bad = [{ customer_id: "A", order_date: "not a date", amount: 10 }];
    const failed = await ingest(t.apiKey.key, t.project.id, bad, "batch-f");
    expect((await waitForJob(t.apiKey.key, failed.job_id)).status).toBe("failed");
    // The failed batch's id is free again: the corrected batch runs.
    const good = [{ customer_id: "A", order_date: "2026-01-01", amount: 10 }];
    const retried = await ingest(t.apiKey.key, t.project.id, good, "batch-f");
    expect(retried.job_id).not.toBe(failed.job_id);
    expect((await waitForJob(t.apiKey.key, retried.job_id)).status).toBe("completed");
    // The same payload again (keys in another order) is a repeat: the accepted job, nothing stored twice.
    const repeated = await ingest(t.apiKey.key, t.project.id, [{ amount: 10, order_date: "2026-01-01", customer_id: "A" }], "batch-f");
    expect(repeated).toMatchObject({ job_id: retried.job_id, file_id: retried.file_id });
    // Another payload under the accepted id would be dropped silently: 409 naming the first job.
    const other = await call("POST", "/api/v1/ingest", { token: t.apiKey.key, body: { project_id: t.project.id, batch_id: "batch-f", records: [{ customer_id: "B", order_date: "2026-01-02", amount: 5 }] } });
    const body = await expectError(other, 409, "conflict");
    expect(body.detail).toMatchObject({ job_id: retried.job_id, file_id: retried.file_id, reason: expect.stringContaining(retried.job_id) });
    // So does the same records under another mapping.
    const remapped = await call("POST", "/api/v1/ingest", { token: t.apiKey.key, body: { project_id: t.project.id, batch_id: "batch-f", records: good, mapping: { default_currency: "EUR" } } });
    await expectError(remapped, 409, "conflict");
    expect((await customerRows(t.project.id)).map((c) => [c.customer_id, c.frequency])).toEqual([["A", 1]]);
  });

  it("makes exactly one job of two identical concurrent posts with one batch_id", async () => {
    const t = await tenant();
    const records = [{ customer_id: "A", order_date: "2026-01-01", amount: 10 }];
    const [a, b] = await Promise.all([ingest(t.apiKey.key, t.project.id, records, "batch-c"), ingest(t.apiKey.key, t.project.id, records, "batch-c")]);
    expect(b.job_id).toBe(a.job_id);
    await waitForJob(t.apiKey.key, a.job_id);
    const { n } = (await env.DB.prepare("SELECT COUNT(*) AS n FROM files WHERE project_id = ?").bind(t.project.id).first<{ n: number }>())!;
    expect(n).toBe(1);
  });

  it("keeps nested objects and arrays of records as JSON in extra_features, not as strings of JSON", async () => {
    const t = await tenant();
    const accepted = await ingest(t.apiKey.key, t.project.id, [{ customer_id: "A", order_date: "2026-01-01", amount: 10, nested: { a: [1, 2] }, tags: ["x", "y"], note: "[draft]" }]);
    expect((await waitForJob(t.apiKey.key, accepted.job_id)).status).toBe("completed");
    const [a] = await customerRows(t.project.id);
    expect(JSON.parse(a!.extra_features)).toEqual({ nested: { a: [1, 2] }, tags: ["x", "y"], note: "[draft]" });
  });

  it("answers 400 up front, storing nothing, when the mapping names a field none of the records has or no customer field is found", async () => {
    const t = await tenant();
    const records = [{ customer_id: "A", order_date: "2026-01-01", amount: 10 }];
    const res = await call("POST", "/api/v1/ingest", { token: t.apiKey.key, body: { project_id: t.project.id, records, mapping: { columns: { customer_id: "Kunde" } } } });
    const body = await expectError(res, 400, "validation_error");
    expect(body.detail).toEqual([{ path: "mapping.columns.customer_id", code: "invalid_value", message: expect.stringContaining('"Kunde"') }]);
    const unknown = await call("POST", "/api/v1/ingest", { token: t.apiKey.key, body: { project_id: t.project.id, records: [{ who: "A", order_date: "2026-01-01", amount: 10 }] } });
    expect((await expectError(unknown, 400, "validation_error")).detail[0]).toMatchObject({ path: "records", message: expect.stringContaining("customer_id") });
    const { n } = (await env.DB.prepare("SELECT COUNT(*) AS n FROM files WHERE project_id = ?").bind(t.project.id).first<{ n: number }>())!;
    expect(n).toBe(0);
  });

  it("answers 400 for an empty list, more than 10,000 records, non-object records and missing fields", async () => {
    const t = await tenant();
    await expectError(await call("POST", "/api/v1/ingest", { token: t.apiKey.key, body: { project_id: t.project.id, records: [] } }), 400, "validation_error");
    const many = Array.from({ length: 10_001 }, (_, i) => ({ customer_id: `c${i}`, order_date: "2026-01-01", amount: 1 }));
    await expectError(await call("POST", "/api/v1/ingest", { token: t.apiKey.key, body: { project_id: t.project.id, records: many } }), 400, "validation_error");
    await expectError(await call("POST", "/api/v1/ingest", { token: t.apiKey.key, body: { project_id: t.project.id, records: [1, "x"] } }), 400, "validation_error");
    await expectError(await call("POST", "/api/v1/ingest", { token: t.apiKey.key, body: { records: [{}] } }), 400, "validation_error");
    await expectError(await call("POST", "/api/v1/ingest", { token: t.apiKey.key, body: "{" }), 400, "invalid_json");
    const files = await json(await call("GET", `/api/engine/projects/${t.project.id}/files`, { token: t.owner.token }));
    expect(files.files).toHaveLength(0);
  });

  it("answers 413 past the body limit", async () => {
    const t = await tenant();
    const huge = Array.from({ length: 9_000 }, (_, i) => ({ customer_id: `c${i}`, order_date: "2026-01-01", amount: 1, note: "x".repeat(1200) }));
    await expectError(await call("POST", "/api/v1/ingest", { token: t.apiKey.key, body: { project_id: t.project.id, records: huge } }), 413, "payload_too_large");
  });

  it("answers 401 without or with a bad key, 403 for a session or another project's id", async () => {
    const a = await tenant();
    const b = await tenant();
    const body = { project_id: a.project.id, records: [{ customer_id: "x", order_date: "2026-01-01", amount: 1 }] };
    await expectError(await call("POST", "/api/v1/ingest", { body }), 401, "unauthorized");
    await expectError(await call("POST", "/api/v1/ingest", { token: `sk_live_${"a".repeat(64)}`, body }), 401, "invalid_api_key");
    await expectError(await call("POST", "/api/v1/ingest", { token: a.owner.token, body }), 403, "forbidden");
    await expectError(await call("POST", "/api/v1/ingest", { token: b.apiKey.key, body }), 403, "project_mismatch");
  });

  it("refuses a batch over the plan's row quota at the door (429 quota_exceeded)", async () => {
    const t = await tenant();
    await env.DB.prepare(
      "INSERT INTO files (id, project_id, organization_id, source, format, filename, r2_key, size_bytes, row_count, status, created_at, updated_at) VALUES (?, ?, ?, 'upload', 'csv', 'old.csv', 'k', 1, 499999, 'completed', 0, 0)",
    )
      .bind(crypto.randomUUID(), t.project.id, t.organization.id)
      .run();
    const records = [1, 2].map((i) => ({ customer_id: `c${i}`, order_date: "2026-01-01", amount: 1 }));
    const body = await expectError(await call("POST", "/api/v1/ingest", { token: t.apiKey.key, body: { project_id: t.project.id, records } }), 429, "quota_exceeded");
    expect(body.detail).toMatchObject({ quota: "rows", limit: 500000, used: 499999, adding: 2 });
  });

  it("meters accepted rows and API requests per organization", async () => {
    const t = await tenant();
    const accepted = await ingest(t.apiKey.key, t.project.id, [
      { customer_id: "A", order_date: "2026-01-01", amount: 10 },
      { customer_id: "B", order_date: "2026-01-01", amount: "x" },
    ]);
    await waitForJob(t.apiKey.key, accepted.job_id);
    const { results } = await env.DB.prepare("SELECT type, SUM(value) AS total FROM usage_events WHERE organization_id = ? GROUP BY type ORDER BY type")
      .bind(t.organization.id)
      .all<{ type: string; total: number }>();
    const totals = Object.fromEntries(results.map((r) => [r.type, r.total]));
    expect(totals.rows_ingested).toBe(1);
    expect(totals.api_request).toBeGreaterThanOrEqual(2);
  });
});
