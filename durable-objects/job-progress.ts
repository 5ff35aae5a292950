import { DurableObject } from "cloudflare:workers";

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
export class JobProgress extends DurableObject {
  private readonly streams = new Set<WritableStreamDefaultWriter<Uint8Array>>();

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

  /** SSE: replays what the client missed (after `Last-Event-ID`), then streams until a terminal event. */
  override async fetch(request: Request): Promise<Response> {
    const lastSeen = Number(request.headers.get("Last-Event-ID") ?? "0");
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const missed = [...this.ctx.storage.kv.list<ProgressEvent>({ prefix: EVENT_PREFIX })]
      .map(([, event]) => event)
      .filter((event) => event.id > (Number.isFinite(lastSeen) ? lastSeen : 0));
    const finished = TERMINAL.has(this.latest()?.status ?? "queued");
    void (async () => {
      await writer.write(encoder.encode(": job progress\nretry: 2000\n\n"));
      for (const event of missed) await writer.write(encoder.encode(frame(event)));
      if (finished) await writer.close();
      else this.streams.add(writer);
    })().catch(() => this.streams.delete(writer));
    return new Response(readable, {
      headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" },
    });
  }

  override async alarm(): Promise<void> {
    for (const writer of this.streams) void writer.close().catch(() => undefined);
    this.streams.clear();
    await this.ctx.storage.deleteAll();
  }

  private async send(writer: WritableStreamDefaultWriter<Uint8Array>, event: ProgressEvent, close: boolean) {
    try {
      await writer.write(encoder.encode(frame(event)));
      if (close) {
        this.streams.delete(writer);
        await writer.close();
      }
    } catch {
      // The client went away.
      this.streams.delete(writer);
    }
  }
}

/** One SSE frame; the event name is the status, so clients can listen for `completed` and `failed`. */
function frame(event: ProgressEvent): string {
  const { id, ...data } = event;
  return `id: ${id}\nevent: ${event.status === "completed" || event.status === "failed" ? event.status : "progress"}\ndata: ${JSON.stringify({ ...data, id })}\n\n`;
}
