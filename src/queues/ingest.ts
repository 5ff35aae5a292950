import { analyticsStore } from "../analytics";
import { database, type Database } from "../db/client";
import type { Bindings } from "../env";
import { plans, withinQuota } from "../billing/plans";
import { ApiError } from "../errors";
import { ColumnMapping, MappingError, resolveColumns, type ResolvedColumns } from "../ingest/columns";
import { CsvError, CsvParser, OversizedRecord, type CsvRecord } from "../ingest/csv";
import { CONTROL_CHARACTER, isRejection, readRow, type RowRejection, type TransactionRow } from "../ingest/rows";
import { hasInvalidUtf8, StrictUtf8Decoder } from "../ingest/utf8";
import { XlsxError, xlsxRecords } from "../ingest/xlsx";
import { completeJobStatement, failJob, findJob, persistProgress, recordAttemptError, reportProgress, startJob, type JobRecord } from "../services/jobs";
import { assertProfilesQuota, claimRows, newCustomersInFile, planOf, rowsUsed } from "../services/quotas";
import { requestModelRunAfterIngest } from "../services/segmentation-queue";
import { recomputeFromFile, removeFileTransactions, storeTransactions, TRANSACTION_CHUNK, type DuplicateOrder } from "../services/transactions";
import { findFile, markFile, type FileRecord } from "../services/files";
import { consumeDeadLetters, consumeEach, errorText, isPermanentError, publicAttemptError } from "./consumer";
import { IngestMessage } from "./messages";

/** How many rejected rows the job's result lists (all are counted). */
const MAX_LISTED_REJECTIONS = 100;
/** Accepted rows written per D1 batch call. */
const WRITE_BATCH = TRANSACTION_CHUNK * 4;

/** A problem with the data itself: retrying cannot help, so the job fails at once. */
class IngestRejected extends Error {
  constructor(
    message: string,
    readonly result: Record<string, unknown> | null = null,
  ) {
    super(message);
  }
}

export async function handleIngestBatch(batch: MessageBatch<unknown>, env: Bindings) {
  await consumeEach(
    batch,
    IngestMessage,
    (message) => ingestFile(env, message),
    (message, error) => recordAttemptError(database(env.DB), message.jobId, publicAttemptError(error)),
  );
}

/** Messages that exhausted their retries: the job ends `failed`, and nothing of the file stays behind. */
export async function handleIngestDeadLetters(batch: MessageBatch<unknown>, env: Bindings) {
  const db = database(env.DB);
  await consumeDeadLetters(batch, IngestMessage, async ({ jobId, fileId, projectId }) => {
    const job = await findJob(db, jobId);
    if (!job || job.status === "completed" || job.status === "failed") return;
    const reason = `gave up after ${job.attempts} attempts: ${job.errorMessage ?? "unknown error"}`;
    await removeFileTransactions(env.DB, projectId, fileId);
    await failJob(db, env, job, reason, null, [markFile(db, fileId, { status: "failed", errorMessage: reason })]);
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

/**
 * Reads one stored file into transactions and customer aggregates. Safe to run again for the same
 * message: rows are keyed by (file, row) and aggregates are recomputed from rows. Data problems, and
 * errors that retrying cannot fix, end the job as `failed` at once (with the file's rows removed);
 * anything else throws so the queue retries.
 */
export async function ingestFile(env: Bindings, message: IngestMessage) {
  const db = database(env.DB);
  const job = await findJob(db, message.jobId);
  const file = await findFile(db, message.fileId);
  if (!job || !file || job.status === "completed" || job.status === "failed") return;

  await startJob(db, env, job, "Reading file");
  try {
    const outcome = await readIntoTransactions(db, env, job, file);
    await assertNewProfilesWithinQuota(db, env, file);
    await claimFileRows(db, file, outcome.rowCount);
    await recomputeFromFile(env.DB, file.projectId, file.id);
    // Asked before the job is marked done, so a crash in between cannot lose the run (requests coalesce).
    const modelRun = await requestModelRunAfterIngest(db, env, file.projectId, file.organizationId, `file ${file.id} ingested`);
    const result = {
      rows_total: outcome.rowCount,
      rows_accepted: outcome.accepted,
      rows_rejected: outcome.rejected,
      rows_duplicate: outcome.duplicates.length,
      rejections: outcome.rejections,
      duplicates: outcome.duplicates.slice(0, MAX_LISTED_REJECTIONS),
      customers: outcome.customers,
      columns: outcome.columns,
      model_run: modelRun,
    };
    await db.batch([
      markFile(db, file.id, { status: "completed", rowCount: outcome.rowCount, rowsAccepted: outcome.accepted, rowsRejected: outcome.rejected, errorMessage: null }),
      completeJobStatement(db, job.id, result, `Ingested ${outcome.accepted} rows`),
    ]);
    await reportProgress(env, job, "completed", 100, `Ingested ${outcome.accepted} rows`);
    await analyticsStore(env).record([{ organizationId: file.organizationId, type: "rows_ingested", projectId: file.projectId, value: outcome.accepted }]);
  } catch (error) {
    let failure: IngestRejected;
    if (error instanceof IngestRejected) failure = error;
    else if (isPermanentError(error)) {
      // Retrying cannot help (a value the database refuses); the driver's words stay in the log.
      console.error(JSON.stringify({ level: "error", queue: "ingest", jobId: job.id, permanent: true, error: errorText(error) }));
      failure = new IngestRejected("the data could not be stored because of an internal error that retrying cannot fix; the file was not ingested");
    } else throw error;
    await removeFileTransactions(env.DB, file.projectId, file.id);
    await failJob(db, env, job, failure.message, failure.result, [markFile(db, file.id, { status: "failed", errorMessage: failure.message })]);
  }
}

/** The plan's profiles quota, checked before the file's customers are created. */
async function assertNewProfilesWithinQuota(db: Database, env: Bindings, file: FileRecord) {
  const adding = await newCustomersInFile(env.DB, file.projectId, file.id);
  try {
    await assertProfilesQuota(db, file.organizationId, adding);
  } catch (error) {
    if (!(error instanceof ApiError && error.code === "quota_exceeded")) throw error;
    const { limit, used } = error.detail as { limit: number; used: number };
    throw new IngestRejected(
      `the file would add ${adding} customer profiles, but the plan allows ${limit} and ${used} are in use; nothing was stored`,
      { quota: error.detail as Record<string, unknown> },
    );
  }
}

type ReadOutcome = {
  rowCount: number;
  accepted: number;
  rejected: number;
  rejections: RowRejection[];
  duplicates: Array<DuplicateOrder & { reason: string }>;
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
  const duplicates: Array<DuplicateOrder & { reason: string }> = [];
  const customers = new Set<string>();
  let pending: TransactionRow[] = [];
  const now = Date.now();
  let lastReportedPct = 0;

  const flush = async () => {
    if (pending.length === 0) return;
    const skipped = await storeTransactions(env.DB, file.id, file.projectId, pending);
    for (const duplicate of skipped) {
      duplicates.push({ ...duplicate, reason: `order ${duplicate.order_id} is already stored for this customer` });
    }
    pending = [];
  };

  const take = async (records: CsvRecord[], fractionRead: number) => {
    for (const record of records) {
      if (!header) {
        header = readHeader(record);
        try {
          columns = resolveColumns(header, mapping);
        } catch (error) {
          if (error instanceof MappingError) throw new IngestRejected(delimiterHint(error.message, header));
          throw error;
        }
        continue;
      }
      rowCount++;
      if (!withinQuota(rowQuota, used, rowCount)) {
        throw new IngestRejected(`the file exceeds the plan's row quota (${rowQuota} rows; ${used} already used)`);
      }
      const row = record instanceof OversizedRecord ? { row: rowCount, reason: record.reason } : readRow(record, rowCount, columns!, mapping, header.length, now);
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
      for await (const batch of xlsxRecords(await object.arrayBuffer())) await take(batch.records, batch.fraction);
    } else {
      const parser = new CsvParser();
      const decoder = new StrictUtf8Decoder();
      let bytesRead = 0;
      const reader = object.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytesRead += value.byteLength;
        await take(parser.push(decoder.push(value)), bytesRead / Math.max(1, file.sizeBytes));
      }
      await take([...parser.push(decoder.end()), ...parser.end()], 1);
    }
  } catch (error) {
    if (error instanceof CsvError) throw new IngestRejected(`malformed CSV: ${error.message}`);
    if (error instanceof XlsxError) throw new IngestRejected(`the file is not a readable XLSX workbook: ${error.message}`);
    throw error;
  }
  await flush();

  if (!header) throw new IngestRejected("the file is empty");
  const rejected = rowCount - accepted;
  if (rowCount === 0) throw new IngestRejected("the file has a header but no data rows");
  if (accepted === 0) {
    throw new IngestRejected(`no valid rows: all ${rowCount} rows were rejected (first reason: ${rejections[0]?.reason ?? "unknown"})`, {
      rows_total: rowCount,
      rows_accepted: 0,
      rows_rejected: rejected,
      rejections,
    });
  }
  await reportProgress(env, job, "processing", 92, "Updating customer aggregates");
  const resolved = columns!;
  return {
    rowCount,
    // Rows stored: valid rows less those skipped as orders already stored.
    accepted: accepted - duplicates.length,
    rejected,
    rejections,
    duplicates,
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


/** The header row: a file whose header cannot be read fails as a whole. */
function readHeader(record: CsvRecord): string[] {
  if (record instanceof OversizedRecord) throw new IngestRejected(`the header row cannot be read: ${record.reason}`);
  if (record.some(hasInvalidUtf8)) throw new IngestRejected("the header row holds bytes that are not valid UTF-8; save the file as UTF-8");
  const header = record.map((h) => h.trim());
  const bad = header.find((h) => CONTROL_CHARACTER.test(h));
  if (bad !== undefined) throw new IngestRejected(`the header column ${JSON.stringify(bad)} holds a control character`);
  return header;
}

/** A header read as one column usually means the delimiter was not recognised: say so, not "pass a mapping". */
function delimiterHint(message: string, header: readonly string[]): string {
  if (header.length !== 1) return message;
  return `${message}. The header was read as a single column: the file's delimiter was not recognised (use ",", ";", tab or spaces)`;
}
