import { DurableObject } from "cloudflare:workers";
import { config, type Bindings } from "../src/env";

export type ProgressStatus = "queued" | "processing" | "completed" | "failed";

export type ProgressUpdate = {
  job_id: string;
  status: ProgressStatus;
  pct: number;
  message: string | null;
};

/** A progress update as stored and streamed: numbered so a client can resume after the last it saw. */
export type ProgressEvent = ProgressUpdate & { id: number; at: string };

const TERMINAL: ReadonlySet<ProgressStatus> = new Set(["completed", "failed"]);
const STAGE: Record<ProgressStatus, number> = { queued: 0, processing: 1, completed: 2, failed: 2 };
/** Progress is kept this long after a job ends; after that, /progress answers from D1. */
export const PROGRESS_RETENTION_MS = 60 * 60 * 1000;
const EVENT_PREFIX = "event:";
const eventKey = (id: number) => `${EVENT_PREFIX}${String(id).padStart(10, "0")}`;
const encoder = new TextEncoder();

/**
 * Live progress of one job (named by the job id). The consumer reports updates over RPC; each is kept
 * in storage and pushed to every open SSE stream. Updates never go backwards (a late or redelivered
 * report cannot lower the percentage or reopen a finished job). An alarm clears it all an hour after
 * the job ends.
 */
export class JobProgress extends DurableObject<Bindings> {
  private readonly streams = new Set<WritableStreamDefaultWriter<Uint8Array>>();
  private heartbeat: ReturnType<typeof setInterval> | null = null;

  latest(): ProgressEvent | null {
    return this.ctx.storage.kv.get<ProgressEvent>("latest") ?? null;
  }

  async report(update: ProgressUpdate): Promise<ProgressEvent | null> {
    const latest = this.latest();
    if (latest && (TERMINAL.has(latest.status) || STAGE[update.status] < STAGE[latest.status])) return null;
    const pct = update.status === "completed" ? 100 : Math.max(update.pct, latest?.pct ?? 0);
    const event: ProgressEvent = {
      ...update,
      pct: Math.max(0, Math.min(100, Math.round(pct))),
      id: (latest?.id ?? 0) + 1,
      at: new Date().toISOString(),
    };
    this.ctx.storage.kv.put(eventKey(event.id), event);
    this.ctx.storage.kv.put("latest", event);
    const terminal = TERMINAL.has(event.status);
    if (terminal) await this.ctx.storage.setAlarm(Date.now() + PROGRESS_RETENTION_MS);
    for (const writer of this.streams) void this.send(writer, event, terminal);
    return event;
  }

  /**
   * SSE: replays what the client missed (after `Last-Event-ID`), then streams until a terminal event.
   * Everything up to joining the stream list happens without an await: writes queue in call order, so
   * a report arriving meanwhile is neither missed nor sent ahead of the replay. A reconnect after the
   * terminal event gets 204, which tells EventSource clients to stop reconnecting.
   */
  override async fetch(request: Request): Promise<Response> {
    const lastSeen = Number(request.headers.get("Last-Event-ID") ?? "0");
    const after = Number.isFinite(lastSeen) ? lastSeen : 0;
    const missed = [...this.ctx.storage.kv.list<ProgressEvent>({ prefix: EVENT_PREFIX })].map(([, event]) => event).filter((event) => event.id > after);
    const finished = TERMINAL.has(this.latest()?.status ?? "queued");
    if (finished && missed.length === 0 && after > 0) return new Response(null, { status: 204 });

    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const write = (text: string) => writer.write(encoder.encode(text)).catch(() => this.drop(writer));
    void write(": job progress\nretry: 2000\n\n");
    for (const event of missed) void write(frame(event));
    if (finished) void writer.close().catch(() => undefined);
    else {
      this.streams.add(writer);
      this.startHeartbeat();
    }
    return new Response(readable, {
      headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" },
    });
  }

  /** A comment line on every open stream, so idle proxies and clients keep it open while a job runs. */
  private startHeartbeat() {
    if (this.heartbeat !== null) return;
    this.heartbeat = setInterval(() => {
      for (const writer of this.streams) void writer.write(encoder.encode(": keep-alive\n\n")).catch(() => this.drop(writer));
      if (this.streams.size === 0) this.stopHeartbeat();
    }, config(this.env).sseHeartbeatSeconds * 1000);
  }

  private stopHeartbeat() {
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private drop(writer: WritableStreamDefaultWriter<Uint8Array>) {
    this.streams.delete(writer);
    if (this.streams.size === 0) this.stopHeartbeat();
  }

  /** Drops everything at once (the job's project was deleted): open streams end, storage and alarm go. */
  async forget(): Promise<void> {
    await this.alarm();
    await this.ctx.storage.deleteAlarm();
  }

  override async alarm(): Promise<void> {
    for (const writer of this.streams) void writer.close().catch(() => undefined);
    this.streams.clear();
    this.stopHeartbeat();
    await this.ctx.storage.deleteAll();
  }

  private async send(writer: WritableStreamDefaultWriter<Uint8Array>, event: ProgressEvent, close: boolean) {
    // Off the list before the first await, so nothing is written after the close.
    if (close) this.drop(writer);
    try {
      await writer.write(encoder.encode(frame(event)));
      if (close) await writer.close();
    } catch {
      // The client went away.
      this.drop(writer);
    }
  }
}

/** One SSE frame; the event name is the status, so clients can listen for `completed` and `failed`. */
function frame(event: ProgressEvent): string {
  const { id, ...data } = event;
  return `id: ${id}\nevent: ${event.status === "completed" || event.status === "failed" ? event.status : "progress"}\ndata: ${JSON.stringify({ ...data, id })}\n\n`;
}
