import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import { call, json } from "../helpers";

export type JobStatus = {
  job_id: string;
  status: string;
  pct: number;
  result: any;
  error_message: string | null;
  file_id: string | null;
  attempts: number;
};

/** Polls the job until it ends (the queue consumer runs on its own, as in production). */
export async function waitForJob(token: string, jobId: string, timeout = 20_000): Promise<JobStatus> {
  let job: JobStatus | undefined;
  await vi.waitFor(
    async () => {
      job = await json<JobStatus>(await call("GET", `/api/engine/jobs/${jobId}/status`, { token }));
      expect(["completed", "failed"]).toContain(job.status);
    },
    { timeout, interval: 100 },
  );
  return job!;
}

export async function ingest(token: string, projectId: string, records: unknown[], batchId?: string) {
  const res = await call("POST", "/api/v1/ingest", { token, body: { project_id: projectId, records, ...(batchId && { batch_id: batchId }) } });
  expect(res.status).toBe(202);
  return json<{ job_id: string; file_id: string; status: string }>(res);
}

export async function customerRows(projectId: string) {
  const { results } = await env.DB.prepare("SELECT * FROM customers WHERE project_id = ? ORDER BY customer_id").bind(projectId).all<Record<string, any>>();
  return results;
}

export async function upload(token: string, projectId: string, name: string, content: string | ArrayBuffer | Uint8Array, mapping?: unknown, type = "text/csv") {
  const form = new FormData();
  form.append("file", new File([content], name, { type }));
  if (mapping !== undefined) form.append("mapping", typeof mapping === "string" ? mapping : JSON.stringify(mapping));
  return call("POST", `/api/engine/projects/${projectId}/files`, { token, body: form });
}
