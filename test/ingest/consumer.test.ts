import { createMessageBatch, getQueueResult, createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { retryDelaySeconds } from "../../src/queues/consumer";
import { handleIngestDeadLetters, ingestFile } from "../../src/queues/ingest";
import type { IngestMessage } from "../../src/queues/messages";
import { database } from "../../src/db/client";
import { requestSegmentation } from "../../src/services/segmentation-queue";
import { call, expectError, json, tenant } from "../helpers";
import { customerRows, ingest, waitForJob } from "./helpers";

const records = (n: number, prefix = "c", day = "2025-01-01") =>
  Array.from({ length: n }, (_, i) => ({ customer_id: `${prefix}${i % 7}`, order_date: day, amount: (i % 13) + 1 }));

async function messageFor(token: string, jobId: string): Promise<IngestMessage> {
  const row = (await env.DB.prepare("SELECT id, file_id, project_id, organization_id FROM jobs WHERE id = ?").bind(jobId).first<Record<string, string>>())!;
  return { kind: "ingest", jobId: row.id!, fileId: row.file_id!, projectId: row.project_id!, organizationId: row.organization_id! };
}

/** The ingest aggregates (segmentation may add its scores meanwhile; those are not ingest's). */
const snapshot = async (projectId: string) =>
  (await customerRows(projectId)).map((c) => [c.id, c.customer_id, c.first_purchase_at, c.last_purchase_at, c.frequency, c.purchase_days, c.monetary_cents, c.return_count, c.extra_features]);

describe("ingest consumer", () => {
  it("changes nothing when the same message is delivered again, before or after completion", async () => {
    const t = await tenant();
    const accepted = await ingest(t.apiKey.key, t.project.id, records(50));
    await waitForJob(t.apiKey.key, accepted.job_id);
    const before = await snapshot(t.project.id);
    const message = await messageFor(t.apiKey.key, accepted.job_id);
    // Completed: a redelivery is acknowledged without work.
    await ingestFile(env, message);
    // Reopened as if a crash had happened after the rows were written: the rerun rewrites nothing twice.
    await env.DB.prepare("UPDATE jobs SET status = 'processing' WHERE id = ?").bind(accepted.job_id).run();
    await ingestFile(env, message);
    const { n } = (await env.DB.prepare("SELECT COUNT(*) AS n FROM transactions WHERE file_id = ?").bind(accepted.file_id).first<{ n: number }>())!;
    expect(n).toBe(50);
    expect(await snapshot(t.project.id)).toEqual(before);
    const job = await json(await call("GET", `/api/engine/jobs/${accepted.job_id}/status`, { token: t.owner.token }));
    expect(job.status).toBe("completed");
  });

  it("counts two concurrent batches for the same customers exactly once each", async () => {
    const t = await tenant();
    const [a, b] = await Promise.all([
      ingest(t.apiKey.key, t.project.id, records(300, "c", "2025-01-01")),
      ingest(t.apiKey.key, t.project.id, records(300, "c", "2025-02-01")),
    ]);
    // Drive both through the consumer at once as well, racing the queue's own delivery.
    await Promise.all([ingestFile(env, await messageFor(t.owner.token, a.job_id)), ingestFile(env, await messageFor(t.owner.token, b.job_id))]);
    await Promise.all([waitForJob(t.apiKey.key, a.job_id), waitForJob(t.apiKey.key, b.job_id)]);
    const rows = await customerRows(t.project.id);
    expect(rows).toHaveLength(7);
    const { total, orders } = (await env.DB.prepare("SELECT SUM(amount_cents) AS total, COUNT(*) AS orders FROM transactions WHERE project_id = ?").bind(t.project.id).first<{ total: number; orders: number }>())!;
    expect(orders).toBe(600);
    expect(rows.reduce((sum, c) => sum + c.monetary_cents, 0)).toBe(total);
    expect(rows.reduce((sum, c) => sum + c.frequency, 0)).toBe(600);
    expect(rows.every((c) => c.purchase_days === 2)).toBe(true);
  });

  it("retries a failing message with exponential backoff", async () => {
    const t = await tenant();
    const accepted = await ingest(t.apiKey.key, t.project.id, records(3));
    await waitForJob(t.apiKey.key, accepted.job_id);
    const message = await messageFor(t.owner.token, accepted.job_id);
    await env.DB.prepare("UPDATE jobs SET status = 'processing' WHERE id = ?").bind(accepted.job_id).run();
    // A D1 outage stands in for a transient failure.
    const brokenEnv = { ...env, DB: { ...env.DB, prepare: () => { throw new Error("D1 is unavailable"); }, batch: () => Promise.reject(new Error("D1 is unavailable")) } as unknown as D1Database };
    const batch = createMessageBatch("segmento-ingest", [{ id: "m1", timestamp: new Date(), attempts: 2, body: message }]);
    const retry = vi.spyOn(batch.messages[0]!, "retry");
    const ctx = createExecutionContext();
    await worker.queue(batch, brokenEnv, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.ackAll).toBe(false);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["m1"]);
    expect(retry).toHaveBeenCalledWith({ delaySeconds: retryDelaySeconds(2) });
    expect(retryDelaySeconds(1)).toBeLessThan(retryDelaySeconds(2));
  });

  it("sends a poison message to the dead-letter queue, where the job ends failed and its rows are removed", async () => {
    const t = await tenant();
    const accepted = await ingest(t.apiKey.key, t.project.id, records(20));
    await waitForJob(t.apiKey.key, accepted.job_id);
    const message = await messageFor(t.owner.token, accepted.job_id);
    // As if the last attempt died half-way: rows written, job still processing with its last error.
    await env.DB.prepare("UPDATE jobs SET status = 'processing', attempts = 4, error_message = 'D1 is unavailable' WHERE id = ?").bind(accepted.job_id).run();
    await env.DB.prepare("UPDATE files SET status = 'processing' WHERE id = ?").bind(accepted.file_id).run();
    const batch = createMessageBatch("segmento-ingest-dlq", [
      { id: "d1", timestamp: new Date(), attempts: 1, body: message },
      { id: "d2", timestamp: new Date(), attempts: 1, body: { not: "a message" } as unknown as IngestMessage },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["d1", "d2"]);
    const job = await json(await call("GET", `/api/engine/jobs/${accepted.job_id}/status`, { token: t.owner.token }));
    expect(job).toMatchObject({ status: "failed", error_message: "gave up after 4 attempts: D1 is unavailable" });
    const file = await json(await call("GET", `/api/engine/files/${accepted.file_id}`, { token: t.owner.token }));
    expect(file.status).toBe("failed");
    expect(await customerRows(t.project.id)).toEqual([]);
    const progress = await json(await call("GET", `/api/engine/jobs/${accepted.job_id}/progress`, { token: t.owner.token }));
    expect(progress.status).toBe("completed"); // the live record ended first; D1 has the final word after it expires
    await handleIngestDeadLetters(batch, env);
  });

  it("retries malformed message bodies so they reach the dead-letter queue instead of vanishing", async () => {
    const batch = createMessageBatch("segmento-ingest", [{ id: "bad", timestamp: new Date(), attempts: 1, body: { kind: "ingest" } }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["bad"]);
    expect(result.explicitAcks).toEqual([]);
  });

  it("coalesces a burst of segmentation requests into one queued run", async () => {
    const t = await tenant();
    const db = database(env.DB);
    const jobs = await Promise.all([1, 2, 3].map((i) => requestSegmentation(db, { ...env, SEGMENTATION_DELAY_SECONDS: "30" }, t.project.id, t.organization.id, `batch ${i}`)));
    expect(new Set(jobs.map((j) => j.id)).size).toBe(1);
    const { results } = await env.DB.prepare("SELECT status FROM jobs WHERE project_id = ? AND type = 'segmentation'").bind(t.project.id).all();
    expect(results).toEqual([{ status: "queued" }]);
  });

  it("refuses job ids of other tenants (404)", async () => {
    const a = await tenant();
    const b = await tenant();
    const accepted = await ingest(b.apiKey.key, b.project.id, records(2));
    for (const path of ["status", "progress", "progress/stream"]) {
      await expectError(await call("GET", `/api/engine/jobs/${accepted.job_id}/${path}`, { token: a.owner.token }), 404, "not_found");
      await expectError(await call("GET", `/api/engine/jobs/${accepted.job_id}/${path}`, { token: a.apiKey.key }), 404, "not_found");
    }
    await waitForJob(b.apiKey.key, accepted.job_id);
  });
});
