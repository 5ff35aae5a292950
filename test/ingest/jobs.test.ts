import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, json, tenant } from "../helpers";
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

describe("job status and progress", () => {
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
});
