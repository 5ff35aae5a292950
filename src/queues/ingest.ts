import { eq } from "drizzle-orm";
import { analyticsStore } from "../analytics";
import { database, type Database } from "../db/client";
import { files, jobs } from "../db/schema";
import type { Bindings } from "../env";
import { plans, withinQuota } from "../billing/plans";
import { ColumnMapping, MappingError, resolveColumns, type ResolvedColumns } from "../ingest/columns";
import { CsvError, CsvParser } from "../ingest/csv";
import { isRejection, readRow, type RowRejection, type TransactionRow } from "../ingest/rows";
import { readXlsxRows } from "../ingest/xlsx";
import { completeJobStatement, failJobStatement, persistProgress, recordAttemptError, reportProgress, startJob, type JobRecord } from "../services/jobs";
import { claimRows, planOf, rowsUsed } from "../services/quotas";
import { ApiError } from "../errors";
import { requestSegmentation } from "../services/segmentation-queue";
import { insertTransactions, recomputeFromFile, removeFileTransactions, TRANSACTION_CHUNK } from "../services/transactions";
import type { FileRecord } from "../services/files";
import { consumeDeadLetters, consumeEach, errorText } from "./consumer";
import { IngestMessage } from "./messages";

/** How many rejected rows the job's result lists (all are counted). */
const MAX_LISTED_REJECTIONS = 100;
/** Accepted rows written per D1 batch call. */
const WRITE_BATCH = TRANSACTION_CHUNK * 4;

/** A problem with the data itself: retrying cannot help, so the job fails at once. */
class IngestRejected extends Error {}

export async function handleIngestBatch(batch: MessageBatch<unknown>, env: Bindings) {
  await consumeEach(
    batch,
    IngestMessage,
    (message) => ingestFile(env, message),
    (message, error) => recordAttemptError(database(env.DB), message.jobId, errorText(error)),
  );
}

/** Messages that exhausted their retries: the job ends `failed`, and nothing of the file stays behind. */
export async function handleIngestDeadLetters(batch: MessageBatch<unknown>, env: Bindings) {
  const db = database(env.DB);
  await consumeDeadLetters(batch, IngestMessage, async ({ jobId, fileId, projectId }) => {
    const job = await db.select().from(jobs).where(eq(jobs.id, jobId)).get();
    if (!job || job.status === "completed" || job.status === "failed") return;
    const reason = `gave up after ${job.attempts} attempts: ${job.errorMessage ?? "unknown error"}`;
    await removeFileTransactions(env.DB, projectId, fileId);
    await db.batch([failJobStatement(db, jobId, reason), markFile(db, fileId, { status: "failed", errorMessage: reason })]);
    await reportProgress(env, job, "failed", job.pct, reason);
  });
}

/** The file's rows against the plan's quota, settled among batches finishing at the same time. */
async function claimFileRows(db: Database, file: FileRecord, rowCount: number) {
  try {
    await claimRows(db, file.organizationId, file.id, rowCount);
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== "quota_exceeded") throw error;
    const { used, limit } = error.detail as { used: number; limit: number };
    throw new IngestRejected(`the file exceeds the plan's row quota (${limit} rows; ${used} already used)`);
  }
}

function markFile(db: Database, fileId: string, changes: Partial<FileRecord>) {
  return db.update(files).set({ ...changes, updatedAt: new Date() }).where(eq(files.id, fileId));
}

/**
 * Reads one stored file into transactions and customer aggregates. Safe to run again for the same
 * message: rows are keyed by (file, row) and aggregates are recomputed from rows. Data problems end
 * the job as `failed` (with the file's rows removed); anything else throws so the queue retries.
 */
export async function ingestFile(env: Bindings, message: IngestMessage) {
  const db = database(env.DB);
  const job = await db.select().from(jobs).where(eq(jobs.id, message.jobId)).get();
  const file = await db.select().from(files).where(eq(files.id, message.fileId)).get();
  if (!job || !file || job.status === "completed" || job.status === "failed") return;

  await startJob(db, env, job, "Reading file");
  try {
    const outcome = await readIntoTransactions(db, env, job, file);
    await claimFileRows(db, file, outcome.rowCount);
    await recomputeFromFile(env.DB, file.projectId, file.id);
    const result = {
      rows_total: outcome.rowCount,
      rows_accepted: outcome.accepted,
      rows_rejected: outcome.rejected,
      rejections: outcome.rejections,
      customers: outcome.customers,
      columns: outcome.columns,
    };
    // Asked before the job is marked done, so a crash in between cannot lose the run (requests coalesce).
    await requestSegmentation(db, env, file.projectId, file.organizationId, `file ${file.id} ingested`);
    await db.batch([
      markFile(db, file.id, { status: "completed", rowCount: outcome.rowCount, rowsAccepted: outcome.accepted, rowsRejected: outcome.rejected, errorMessage: null }),
      completeJobStatement(db, job.id, result, `Ingested ${outcome.accepted} rows`),
    ]);
    await reportProgress(env, job, "completed", 100, `Ingested ${outcome.accepted} rows`);
    await analyticsStore(env).record([{ organizationId: file.organizationId, type: "rows_ingested", projectId: file.projectId, value: outcome.accepted }]);
  } catch (error) {
    if (!(error instanceof IngestRejected)) throw error;
    await removeFileTransactions(env.DB, file.projectId, file.id);
    const result = (error as IngestRejected & { result?: Record<string, unknown> }).result ?? null;
    await db.batch([failJobStatement(db, job.id, error.message, result), markFile(db, file.id, { status: "failed", errorMessage: error.message })]);
    await reportProgress(env, job, "failed", 0, error.message);
  }
}

type ReadOutcome = {
  rowCount: number;
  accepted: number;
  rejected: number;
  rejections: RowRejection[];
  customers: number;
  columns: Record<string, string | string[] | null>;
};

async function readIntoTransactions(db: Database, env: Bindings, job: JobRecord, file: FileRecord): Promise<ReadOutcome> {
  const object = await env.FILES.get(file.r2Key);
  if (!object) throw new IngestRejected("the stored file is missing");
  const mappingResult = ColumnMapping.safeParse(file.mapping ?? {});
  if (!mappingResult.success) throw new IngestRejected("the stored column mapping is invalid");
  const mapping = mappingResult.data;

  const rowQuota = plans[await planOf(db, file.organizationId)].quotas.rows;
  const used = await rowsUsed(db, file.organizationId, file.id);

  let header: string[] | undefined;
  let columns: ResolvedColumns | undefined;
  let rowCount = 0;
  let accepted = 0;
  const rejections: RowRejection[] = [];
  const customers = new Set<string>();
  let pending: TransactionRow[] = [];
  const now = Date.now();
  let lastReportedPct = 0;

  const flush = async () => {
    if (pending.length === 0) return;
    await env.DB.batch(insertTransactions(env.DB, file.id, file.projectId, pending));
    pending = [];
  };

  const take = async (records: string[][], fractionRead: number) => {
    for (const record of records) {
      if (!header) {
        header = record.map((h) => h.trim());
        try {
          columns = resolveColumns(header, mapping);
        } catch (error) {
          if (error instanceof MappingError) throw new IngestRejected(error.message);
          throw error;
        }
        continue;
      }
      rowCount++;
      if (!withinQuota(rowQuota, used, rowCount)) {
        throw new IngestRejected(`the file exceeds the plan's row quota (${rowQuota} rows; ${used} already used)`);
      }
      const row = readRow(record, rowCount, columns!, mapping, header.length, now);
      if (isRejection(row)) {
        if (rejections.length < MAX_LISTED_REJECTIONS) rejections.push(row);
        continue;
      }
      accepted++;
      customers.add(row.customerId);
      pending.push(row);
      if (pending.length >= WRITE_BATCH) await flush();
    }
    // Progress from 5% (read started) to 90% (all rows written); aggregates and the rest take the last 10%.
    const pct = Math.floor(5 + fractionRead * 85);
    if (pct >= lastReportedPct + 5) {
      lastReportedPct = pct;
      await reportProgress(env, job, "processing", pct, `Read ${rowCount} rows`);
      if (pct % 20 < 5) await persistProgress(db, job.id, pct, `Read ${rowCount} rows`);
    }
  };

  try {
    if (file.format === "xlsx") {
      let rows: string[][];
      try {
        rows = await readXlsxRows(await object.arrayBuffer());
      } catch (error) {
        throw new IngestRejected(`the file is not a readable XLSX workbook (${errorText(error)})`);
      }
      for (let i = 0; i < rows.length; i += WRITE_BATCH) await take(rows.slice(i, i + WRITE_BATCH), Math.min(1, (i + WRITE_BATCH) / rows.length));
    } else {
      const parser = new CsvParser();
      const decoder = new TextDecoder("utf-8");
      let bytesRead = 0;
      const reader = object.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytesRead += value.byteLength;
        await take(parser.push(decoder.decode(value, { stream: true })), bytesRead / Math.max(1, file.sizeBytes));
      }
      await take([...parser.push(decoder.decode()), ...parser.end()], 1);
    }
  } catch (error) {
    if (error instanceof CsvError) throw new IngestRejected(`malformed CSV: ${error.message}`);
    throw error;
  }
  await flush();

  if (!header) throw new IngestRejected("the file is empty");
  const rejected = rowCount - accepted;
  if (rowCount === 0) throw new IngestRejected("the file has a header but no data rows");
  if (accepted === 0) {
    const failure = new IngestRejected(`no valid rows: all ${rowCount} rows were rejected (first reason: ${rejections[0]?.reason ?? "unknown"})`);
    Object.assign(failure, { result: { rows_total: rowCount, rows_accepted: 0, rows_rejected: rejected, rejections } });
    throw failure;
  }
  await reportProgress(env, job, "processing", 92, "Updating customer aggregates");
  const resolved = columns!;
  return {
    rowCount,
    accepted,
    rejected,
    rejections,
    customers: customers.size,
    columns: {
      customer_id: header[resolved.customer_id] ?? null,
      order_date: header[resolved.order_date] ?? null,
      amount: resolved.amount === -1 ? null : header[resolved.amount]!,
      order_id: resolved.order_id === -1 ? null : header[resolved.order_id]!,
      currency: resolved.currency === -1 ? null : header[resolved.currency]!,
      quantity: resolved.quantity === -1 ? null : header[resolved.quantity]!,
      unit_price: resolved.unit_price === -1 ? null : header[resolved.unit_price]!,
      returned: resolved.returned === -1 ? null : header[resolved.returned]!,
      extra_features: resolved.extra.map((e) => e.name),
    },
  };
}

