import { createRoute, z } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { jobForPrincipal, progressStub, reportProgress } from "../../services/jobs";
import { auth, type Router } from "../router";
import { JobIdParam } from "./schema";

const route = createRoute({
  method: "get",
  path: "/jobs/{jobId}/progress/stream",
  operationId: "streamJobProgress",
  tags: ["Jobs"],
  summary: "A job's progress as Server-Sent Events",
  description:
    "Events `progress` while running, then one terminal `completed` or `failed`, after which the stream ends. Each event has an `id`; " +
    "reconnect with `Last-Event-ID` to receive only what you missed. Data: `{job_id, status, pct, message, id, at}`.",
  ...auth.sessionOrApiKey(),
  request: {
    params: JobIdParam,
    headers: z.object({ "last-event-id": z.string().regex(/^\d{1,10}$/).optional().openapi({ description: "The id of the last event received" }) }),
  },
  responses: {
    200: { description: "An SSE stream, with a `: keep-alive` comment every 15 s while the job runs", content: { "text/event-stream": { schema: z.string() } } },
    204: { description: "A reconnect (`Last-Event-ID`) after the terminal event: nothing more will come; EventSource stops reconnecting" },
    ...authErrorResponses,
  },
});

export function registerJobProgressStream(app: Router) {
  app.openapi(route, async (c) => {
    const job = await jobForPrincipal(database(c.env.DB), principalOf(c), c.req.valid("param").jobId);
    const stub = progressStub(c.env, job.id);
    // Live state expires an hour after a job ends; start it again from the persisted record.
    if (!(await stub.latest())) await reportProgress(c.env, job, job.status, job.pct, job.message);
    const upstream = await stub.fetch("https://job-progress/stream", {
      headers: { "Last-Event-ID": c.req.valid("header")["last-event-id"] ?? "0" },
    });
    // A fresh Response, so middleware can still add headers (rate limits, request id).
    if (upstream.status === 204) return c.body(null, 204);
    return new Response(upstream.body, { status: 200, headers: upstream.headers });
  });
}
