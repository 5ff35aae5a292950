import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectError, json, tenant } from "../helpers";
import { ingest, waitForJob } from "./helpers";

type SseEvent = { id: string; event: string; data: any };

function parseSse(text: string): SseEvent[] {
  return text
    .split("\n\n")
    .map((block) => block.split("\n").filter((line) => line && !line.startsWith(":")))
    .filter((lines) => lines.some((l) => l.startsWith("data:")))
    .map((lines) => {
      const field = (name: string) => lines.find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1).trim() ?? "";
      return { id: field("id"), event: field("event"), data: JSON.parse(field("data")) };
    });
}

async function readEvents(stream: ReadableStream<Uint8Array>, until: (events: SseEvent[]) => boolean) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (until(parseSse(text))) {
      await reader.cancel();
      break;
    }
  }
  return parseSse(text);
}

describe("job status and progress", { timeout: 30_000 }, () => {
  it("reports the persisted record and live progress", async () => {
    const t = await tenant();
    const accepted = await ingest(t.apiKey.key, t.project.id, [{ customer_id: "a", order_date: "2025-01-01", amount: 1 }]);
    const job = await waitForJob(t.owner.token, accepted.job_id);
    expect(job).toMatchObject({ job_id: accepted.job_id, status: "completed", pct: 100, file_id: accepted.file_id, attempts: 1 });
    const status = await json(await call("GET", `/api/engine/jobs/${accepted.job_id}/status`, { token: t.apiKey.key }));
    expect(status.type).toBe("ingest");
    expect(Date.parse(status.finished_at)).toBeGreaterThanOrEqual(Date.parse(status.started_at));
    const progress = await json(await call("GET", `/api/engine/jobs/${accepted.job_id}/progress`, { token: t.apiKey.key }));
    expect(progress).toEqual({ job_id: accepted.job_id, status: "completed", pct: 100, message: "Ingested 1 rows" });
  });

  it("streams SSE to the terminal event, and resumes after Last-Event-ID", async () => {
    const t = await tenant();
    const accepted = await ingest(t.apiKey.key, t.project.id, [{ customer_id: "a", order_date: "2025-01-01", amount: 1 }]);
    await waitForJob(t.owner.token, accepted.job_id);
    const res = await call("GET", `/api/engine/jobs/${accepted.job_id}/progress/stream`, { token: t.owner.token });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/event-stream");
    expect(res.headers.get("RateLimit-Limit")).not.toBeNull();
    // The stream ends by itself after the terminal event.
    const events = parseSse(await res.text());
    expect(events.at(-1)).toMatchObject({ event: "completed", data: { status: "completed", pct: 100, job_id: accepted.job_id } });
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));
    const pcts = events.map((e) => e.data.pct);
    expect([...pcts].sort((a, b) => a - b)).toEqual(pcts);

    const resumed = await call("GET", `/api/engine/jobs/${accepted.job_id}/progress/stream`, {
      token: t.owner.token,
      headers: { "Last-Event-ID": String(events.length - 1) },
    });
    const rest = parseSse(await resumed.text());
    expect(rest).toEqual([events.at(-1)]);
  });

  it("pushes updates live to an open stream until the job ends", async () => {
    const jobId = crypto.randomUUID();
    const stub = env.JOB_PROGRESS.get(env.JOB_PROGRESS.idFromName(jobId));
    await stub.report({ job_id: jobId, status: "processing", pct: 10, message: "Reading file" });
    const res = await stub.fetch("https://job-progress/stream");
    const reading = readEvents(res.body!, (events) => events.some((e) => e.event === "failed"));
    await stub.report({ job_id: jobId, status: "processing", pct: 40, message: "Read 400 rows" });
    // Late or repeated reports never move progress backwards or reopen a finished job.
    await stub.report({ job_id: jobId, status: "processing", pct: 20, message: "stale" });
    await stub.report({ job_id: jobId, status: "failed", pct: 40, message: "malformed CSV" });
    expect(await stub.report({ job_id: jobId, status: "processing", pct: 90, message: "too late" })).toBeNull();
    const events = await reading;
    expect(events.map((e) => [e.event, e.data.pct, e.data.message])).toEqual([
      ["progress", 10, "Reading file"],
      ["progress", 40, "Read 400 rows"],
      ["progress", 40, "stale"],
      ["failed", 40, "malformed CSV"],
    ]);
  });

  it("falls back to the persisted record once live progress expires (an hour after the end)", async () => {
    const t = await tenant();
    const accepted = await ingest(t.apiKey.key, t.project.id, [{ customer_id: "a", order_date: "2025-01-01", amount: 1 }]);
    await waitForJob(t.owner.token, accepted.job_id);
    const stub = env.JOB_PROGRESS.get(env.JOB_PROGRESS.idFromName(accepted.job_id));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.latest()).toBeNull();
    const progress = await json(await call("GET", `/api/engine/jobs/${accepted.job_id}/progress`, { token: t.owner.token }));
    expect(progress).toEqual({ job_id: accepted.job_id, status: "completed", pct: 100, message: "Ingested 1 rows" });
    // A stream opened after expiry still ends with the terminal event.
    const events = parseSse(await (await call("GET", `/api/engine/jobs/${accepted.job_id}/progress/stream`, { token: t.owner.token })).text());
    expect(events.map((e) => e.event)).toEqual(["completed"]);
  });

  it("does not miss an event reported while a stream is being opened (the client not reading yet)", async () => {
    const jobId = crypto.randomUUID();
    const stub = env.JOB_PROGRESS.get(env.JOB_PROGRESS.idFromName(jobId));
    await stub.report({ job_id: jobId, status: "processing", pct: 10, message: "Reading file" });
    const res = await stub.fetch("https://job-progress/stream");
    // Reported before the client reads a byte of the replay.
    await stub.report({ job_id: jobId, status: "processing", pct: 50, message: "Half" });
    await stub.report({ job_id: jobId, status: "completed", pct: 100, message: "Done" });
    const timeout = new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), 3_000));
    const events = await Promise.race([readEvents(res.body!, (e) => e.some((x) => x.event === "completed")), timeout]);
    expect(events).not.toBe("hung");
    expect((events as SseEvent[]).map((e) => [e.event, e.data.pct])).toEqual([
      ["progress", 10],
      ["progress", 50],
      ["completed", 100],
    ]);
  });

  it("answers 204 to a reconnect after the terminal event, so EventSource stops reconnecting", async () => {
    const t = await tenant();
    const accepted = await ingest(t.apiKey.key, t.project.id, [{ customer_id: "a", order_date: "2025-01-01", amount: 1 }]);
    await waitForJob(t.owner.token, accepted.job_id);
    const events = parseSse(await (await call("GET", `/api/engine/jobs/${accepted.job_id}/progress/stream`, { token: t.owner.token })).text());
    const reconnect = await call("GET", `/api/engine/jobs/${accepted.job_id}/progress/stream`, {
      token: t.owner.token,
      headers: { "Last-Event-ID": events.at(-1)!.id },
    });
    expect(reconnect.status).toBe(204);
    expect(await reconnect.text()).toBe("");
    // Also once the live state has expired and is rebuilt from D1.
    await runDurableObjectAlarm(env.JOB_PROGRESS.get(env.JOB_PROGRESS.idFromName(accepted.job_id)));
    const afterExpiry = await call("GET", `/api/engine/jobs/${accepted.job_id}/progress/stream`, { token: t.owner.token, headers: { "Last-Event-ID": events.at(-1)!.id } });
    expect(afterExpiry.status).toBe(204);
  });

  it("sends a comment heartbeat on an open stream while the job runs", async () => {
    const jobId = crypto.randomUUID();
    const stub = env.JOB_PROGRESS.get(env.JOB_PROGRESS.idFromName(jobId));
    await stub.report({ job_id: jobId, status: "processing", pct: 10, message: "Reading file" });
    const reader = (await stub.fetch("https://job-progress/stream")).body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const started = Date.now();
    while (!text.includes(": keep-alive") && Date.now() - started < 5_000) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toContain(": keep-alive\n\n");
    await reader.cancel();
    await stub.report({ job_id: jobId, status: "completed", pct: 100, message: "Done" });
  });

  it("names the model run an ingest queued, and lists a project's jobs newest first, paged", async () => {
    const t = await tenant();
    const accepted = await ingest(t.apiKey.key, t.project.id, [{ customer_id: "a", order_date: "2025-01-01", amount: 1 }]);
    const job = await waitForJob(t.owner.token, accepted.job_id);
    expect(job.result.model_run).toEqual({ job_id: expect.any(String), queued: true });
    const run = await waitForJob(t.owner.token, job.result.model_run.job_id);
    expect(run.status).toBe("completed");

    const list = await json(await call("GET", `/api/engine/projects/${t.project.id}/jobs`, { token: t.apiKey.key }));
    expect(list).toMatchObject({ total: 2, page: 1, pages: 1 });
    expect(list.jobs.map((j: { type: string; job_id: string }) => [j.type, j.job_id])).toEqual([
      ["segmentation", run.job_id],
      ["ingest", accepted.job_id],
    ]);
    expect(list.jobs[1]).toEqual({
      job_id: accepted.job_id,
      type: "ingest",
      status: "completed",
      file_id: accepted.file_id,
      error_message: null,
      created_at: expect.any(String),
      finished_at: expect.any(String),
    });
    const second = await json(await call("GET", `/api/engine/projects/${t.project.id}/jobs?limit=1&page=2`, { token: t.owner.token }));
    expect(second).toMatchObject({ total: 2, page: 2, pages: 2, jobs: [{ job_id: accepted.job_id }] });
    const ingests = await json(await call("GET", `/api/engine/projects/${t.project.id}/jobs?type=ingest`, { token: t.owner.token }));
    expect(ingests.jobs.map((j: { job_id: string }) => j.job_id)).toEqual([accepted.job_id]);

    await expectError(await call("GET", `/api/engine/projects/${t.project.id}/jobs?sort=asc`, { token: t.owner.token }), 400, "validation_error");
    await expectError(await call("GET", `/api/engine/projects/${t.project.id}/jobs?limit=0`, { token: t.owner.token }), 400, "validation_error");
    const other = await tenant();
    await expectError(await call("GET", `/api/engine/projects/${t.project.id}/jobs`, { token: other.owner.token }), 404, "not_found");
    await expectError(await call("GET", `/api/engine/projects/${t.project.id}/jobs`, { token: other.apiKey.key }), 403, "project_mismatch");
  });

  it("says on the ingest job why no model run was queued when the month's runs are used up", async () => {
    const t = await tenant();
    await env.DB.prepare("INSERT INTO usage_counters (organization_id, period, model_runs, genai_ops) VALUES (?, ?, 5, 0)")
      .bind(t.organization.id, new Date().toISOString().slice(0, 7))
      .run();
    const accepted = await ingest(t.apiKey.key, t.project.id, [{ customer_id: "a", order_date: "2025-01-01", amount: 1 }]);
    const job = await waitForJob(t.owner.token, accepted.job_id);
    expect(job.status).toBe("completed");
    expect(job.result.model_run).toMatchObject({ job_id: null, queued: false, reason: expect.stringMatching(/model runs for this month are used up/), quota: { quota: "modelRuns", limit: 5, used: 5 } });
    const list = await json(await call("GET", `/api/engine/projects/${t.project.id}/jobs`, { token: t.owner.token }));
    expect(list.jobs.map((j: { type: string }) => j.type)).toEqual(["ingest"]);
  });
});
