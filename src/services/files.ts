import { and, desc, eq, ne } from "drizzle-orm";
import type { Database } from "../db/client";
import { files, jobs, type FileFormat } from "../db/schema";
import { isUniqueViolation } from "../db/errors";
import type { Bindings } from "../env";
import { ApiError } from "../errors";
import type { ColumnMapping } from "../ingest/columns";
import { sha256Hex } from "../lib/crypto";
import { newId } from "../lib/ids";
import { assertCanSee, type Principal } from "./access";
import { newJob, type JobRecord } from "./jobs";
import { pageOf, type PageRequest } from "./paging";
import { assertStoredFileFits } from "./quotas";
import type { ProjectRecord } from "./projects";
import { removeFileTransactions } from "./transactions";

export type FileRecord = typeof files.$inferSelect;

export function publicFile(file: FileRecord) {
  return {
    id: file.id,
    projectId: file.projectId,
    source: file.source,
    format: file.format,
    filename: file.filename,
    status: file.status,
    sizeBytes: file.sizeBytes,
    rowCount: file.rowCount,
    rowsAccepted: file.rowsAccepted,
    rowsRejected: file.rowsRejected,
    batchId: file.batchId,
    errorMessage: file.errorMessage,
    createdAt: file.createdAt.toISOString(),
    updatedAt: file.updatedAt.toISOString(),
  };
}

const safeName = (name: string) => name.replace(/[^\w.-]+/g, "_").slice(-120) || "data";

/**
 * Stores a batch of raw transactions: the bytes in R2, a file record and its ingest job in D1 (one
 * batch), then a queue message that references them. With a `batchId` a live (not failed) file of the
 * project holds, nothing is stored: the same payload (`payloadSha256`) gets the first job back (API ingest
 * is idempotent per batch id), a different one 409 `conflict` naming that job. A failed batch gives its id
 * up, so it can be sent again (as a failed upload's content can). An upload
 * whose bytes match a live (not failed) file of the project is refused (409 duplicate_file) unless
 * `force`: ingesting it again would double every figure.
 */
export async function acceptFile(
  db: Database,
  env: Bindings,
  project: ProjectRecord,
  input: { source: "upload" | "ingest"; format: FileFormat; filename: string; body: ArrayBuffer | string; batchId?: string; payloadSha256?: string; mapping?: ColumnMapping; force?: boolean },
): Promise<{ file: FileRecord; job: JobRecord; duplicate: boolean }> {
  if (input.batchId !== undefined) {
    const existing = await liveFileByBatchId(db, project.id, input.batchId);
    if (existing) return repeatedBatch(existing, input.payloadSha256);
  }
  const contentSha256 = input.source === "upload" && !input.force ? await sha256Hex(input.body) : null;
  if (contentSha256) await assertNewContent(db, project.id, contentSha256);
  const now = new Date();
  const id = newId();
  const sizeBytes = typeof input.body === "string" ? new TextEncoder().encode(input.body).byteLength : input.body.byteLength;
  const file: FileRecord = {
    id,
    projectId: project.id,
    organizationId: project.organizationId,
    source: input.source,
    format: input.format,
    filename: input.filename,
    r2Key: `projects/${project.id}/files/${id}/${safeName(input.filename)}`,
    sizeBytes,
    rowCount: null,
    rowsAccepted: null,
    rowsRejected: null,
    status: "processing",
    batchId: input.batchId ?? null,
    payloadSha256: input.payloadSha256 ?? null,
    mapping: input.mapping ?? null,
    errorMessage: null,
    contentSha256,
    createdAt: now,
    updatedAt: now,
  };
  const job = newJob({ projectId: project.id, organizationId: project.organizationId, type: "ingest", status: "processing", fileId: id, message: "Waiting in the ingest queue" });

  await env.FILES.put(file.r2Key, input.body, {
    httpMetadata: { contentType: input.format === "csv" ? "text/csv; charset=utf-8" : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
    customMetadata: { projectId: project.id, fileId: id },
  });
  try {
    await db.batch([db.insert(files).values(file), db.insert(jobs).values(job)]);
  } catch (error) {
    await env.FILES.delete(file.r2Key);
    // Two requests with the same batch id at once: the unique index lets one through.
    if (input.batchId !== undefined && isUniqueViolation(error)) {
      const existing = await liveFileByBatchId(db, project.id, input.batchId);
      if (existing) return repeatedBatch(existing, input.payloadSha256);
    }
    // Two uploads of the same content at once: the partial unique index lets one through.
    if (contentSha256 && isUniqueViolation(error)) await assertNewContent(db, project.id, contentSha256);
    throw error;
  }
  try {
    await assertStoredFileFits(db, project.organizationId, id, sizeBytes);
  } catch (error) {
    await db.batch([db.delete(jobs).where(eq(jobs.id, job.id)), db.delete(files).where(eq(files.id, id))]);
    await env.FILES.delete(file.r2Key);
    throw error;
  }
  await env.INGEST_QUEUE.send({ kind: "ingest", jobId: job.id, fileId: id, projectId: project.id, organizationId: project.organizationId });
  return { file, job, duplicate: false };
}


/** 409 naming the live file of the project that holds the same content, if there is one. */
async function assertNewContent(db: Database, projectId: string, contentSha256: string) {
  const first = await db
    .select({ id: files.id, filename: files.filename, createdAt: files.createdAt })
    .from(files)
    .where(and(eq(files.projectId, projectId), eq(files.contentSha256, contentSha256), ne(files.status, "failed")))
    .get();
  if (first) {
    throw new ApiError(
      "duplicate_file",
      { file_id: first.id, filename: first.filename, created_at: first.createdAt.toISOString() },
      { fileId: first.id, filename: first.filename },
    );
  }
}

async function liveFileByBatchId(db: Database, projectId: string, batchId: string) {
  const row = await db
    .select({ file: files, job: jobs })
    .from(files)
    .innerJoin(jobs, and(eq(jobs.fileId, files.id), eq(jobs.type, "ingest")))
    .where(and(eq(files.projectId, projectId), eq(files.batchId, batchId), ne(files.status, "failed")))
    .get();
  return row ?? null;
}

/**
 * A batch id already accepted: the same payload is a retry and gets the first job; another payload
 * would be lost silently behind it, so it is refused. (Files stored before payloads were hashed match any.)
 */
function repeatedBatch(existing: { file: FileRecord; job: JobRecord }, payloadSha256: string | undefined) {
  const { file, job } = existing;
  if (file.payloadSha256 !== null && payloadSha256 !== undefined && file.payloadSha256 !== payloadSha256) {
    throw new ApiError("conflict", {
      reason: `batch_id "${file.batchId}" was already accepted with a different payload, as job ${job.id}; send new records under a new batch_id`,
      job_id: job.id,
      file_id: file.id,
    });
  }
  return { file, job, duplicate: true };
}

export async function listFiles(db: Database, projectId: string, page: PageRequest) {
  const where = eq(files.projectId, projectId);
  return pageOf(
    page,
    (limit, offset) => db.select().from(files).where(where).orderBy(desc(files.createdAt), desc(files.id)).limit(limit).offset(offset).all(),
    () => db.$count(files, where),
  );
}

export async function findFile(db: Database, fileId: string) {
  return db.select().from(files).where(eq(files.id, fileId)).get();
}

/** The statement recording a file's processing state (run in a batch with its job's). */
export function markFile(db: Database, fileId: string, changes: Partial<FileRecord>) {
  return db.update(files).set({ ...changes, updatedAt: new Date() }).where(eq(files.id, fileId));
}

/** A file the caller may see: a member's session or its project's API key; otherwise 404. */
export async function fileForPrincipal(db: Database, principal: Principal, fileId: string): Promise<FileRecord> {
  const file = await findFile(db, fileId);
  await assertCanSee(db, principal, file);
  return file!;
}

/**
 * Deletes a file with everything it contributed: its transactions leave the customers' aggregates,
 * its bytes leave R2. A file still being processed cannot be deleted (409).
 */
export async function deleteFile(db: Database, env: Bindings, file: FileRecord) {
  if (file.status === "processing") throw new ApiError("conflict", { reason: "file is still being processed" });
  await removeFileTransactions(env.DB, file.projectId, file.id);
  await db.delete(files).where(eq(files.id, file.id));
  await env.FILES.delete(file.r2Key);
}
