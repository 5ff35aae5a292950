import { and, desc, eq } from "drizzle-orm";
import { database, type Database } from "../db/client";
import { automationChunks, automationRuns, automations, connectors, jobs, segments, type MemberGroup } from "../db/schema";
import { isUniqueViolation } from "../db/errors";
import type { Bindings } from "../env";
import { ApiError } from "../errors";
import { channels, ProviderError } from "../activations/channels";
import { certainlyNotSent, retryable, type Channel, type ChannelContext, type DeliveryBatch, type DeliveryMember, type RemovedMember } from "../activations/channels/channel";
import { cronMatches, parseCron } from "../activations/cron";
import { newId } from "../lib/ids";
import { RetryLater, retryDelaySeconds } from "../queues/consumer";
import { assertCanAct, type Principal } from "./access";
import { planMembers, requiredAddress, SENT_TO_MEMBER, type AutomationRecord, type MemberPlan, type SyncedMember } from "./automations";
import { channelContext, connectorCredentials, withoutSecrets } from "./connectors";
import { completeJobStatement, failJob, findJob, newJob, reportProgress, startJob } from "./jobs";
import type { MemberRole } from "../db/schema";
import { pageOf, type PageRequest } from "./paging";

export type RunRecord = typeof automationRuns.$inferSelect;
type RunTrigger = RunRecord["trigger"];

export function publicRun(run: RunRecord) {
  return {
    run_id: run.id,
    automation_id: run.automationId,
    job_id: run.jobId,
    trigger: run.trigger,
    status: run.status,
    member_count: run.memberCount,
    treated: run.treatedCount,
    control: run.controlCount,
    skipped_no_address: run.skippedCount,
    chunks: run.chunkCount,
    delivered: run.deliveredCount,
    delivery_unknown: run.deliveryUnknownCount,
    error_message: run.errorMessage,
    created_at: run.createdAt.toISOString(),
    started_at: run.startedAt?.toISOString() ?? null,
    finished_at: run.finishedAt?.toISOString() ?? null,
  };
}

/** A chunk is someone's for this long after it is claimed; a crashed delivery is retried after it. */
const CLAIM_LEASE_MS = 60_000;
/** Rows per INSERT … SELECT FROM json_each statement. */
const MEMBER_WRITE_CHUNK = 2_000;
/** Quick retries inside one delivery before the queue's own (slower) backoff takes over. */
const IN_PLACE_ATTEMPTS = 3;
const IN_PLACE_MAX_WAIT_SECONDS = 2;

/**
 * Queues a run of the automation: a job (progress and SSE as for other jobs) and a run, planned and
 * delivered by the activations queue. One run at a time per automation (409 while one is going).
 */
export async function startRun(env: Bindings, db: Database, automation: AutomationRecord, trigger: RunTrigger) {
  if (automation.status !== "active") throw new ApiError("conflict", { reason: "the automation is paused" });
  const job = newJob({ projectId: automation.projectId, organizationId: automation.organizationId, type: "activation", status: "queued", message: "Queued" });
  const run: RunRecord = {
    id: newId(),
    automationId: automation.id,
    projectId: automation.projectId,
    organizationId: automation.organizationId,
    jobId: job.id,
    trigger,
    status: "queued",
    memberCount: 0,
    treatedCount: 0,
    controlCount: 0,
    skippedCount: 0,
    chunkCount: 0,
    deliveredCount: 0,
    deliveryUnknownCount: 0,
    errorMessage: null,
    createdAt: new Date(),
    startedAt: null,
    finishedAt: null,
  };
  try {
    await db.batch([db.insert(jobs).values(job), db.insert(automationRuns).values(run)]);
  } catch (error) {
    if (isUniqueViolation(error)) throw new ApiError("conflict", { reason: "a run of this automation is in progress" });
    throw error;
  }
  try {
    await env.ACTIVATIONS_QUEUE.send({ kind: "activation_plan", runId: run.id });
  } catch (error) {
    // Without its message the run would block the automation; it ends failed and the caller may retry.
    await failRun(env, run, "the activations queue did not accept the run");
    console.error(JSON.stringify({ level: "error", message: "activations queue send failed", runId: run.id, error: String(error) }));
    throw new ApiError("service_unavailable", { reason: "the activations queue is unavailable" });
  }
  return { run, job };
}

export async function runForPrincipal(db: Database, principal: Principal, runId: string, roles?: readonly MemberRole[]): Promise<RunRecord> {
  const run = await db.select().from(automationRuns).where(eq(automationRuns.id, runId)).get();
  await assertCanAct(db, principal, run, roles);
  return run!;
}

export async function listRuns(db: Database, automationId: string, page: PageRequest) {
  const where = eq(automationRuns.automationId, automationId);
  return pageOf(
    page,
    (limit, offset) => db.select().from(automationRuns).where(where).orderBy(desc(automationRuns.createdAt), desc(automationRuns.id)).limit(limit).offset(offset).all(),
    () => db.$count(automationRuns, where),
  );
}

/**
 * Plans a queued run: splits the segment's members (control, skipped, in sync, to add, removed),
 * records every member with its group and chunk, then queues one message per pending chunk. A
 * redelivered message finds the run already planned and only queues its pending chunks again
 * (chunk delivery is idempotent).
 */
export async function planRun(env: Bindings, runId: string) {
  const db = database(env.DB);
  let run = await db.select().from(automationRuns).where(eq(automationRuns.id, runId)).get();
  if (!run || isFinished(run)) return;
  if (run.status === "queued") {
    const automation = await db.select().from(automations).where(eq(automations.id, run.automationId)).get();
    const job = await db.select().from(jobs).where(eq(jobs.id, run.jobId)).get();
    if (!automation || !job) return;
    await startJob(db, env, job, "Planning the run");
    const connector = await db.select({ type: connectors.type }).from(connectors).where(eq(connectors.id, automation.connectorId)).get();
    if (!connector) return failRun(env, run, "the automation's connector no longer exists");
    // A cluster segment goes when a model run no longer finds its cluster: nothing to send to.
    const segment = await db.select({ id: segments.id }).from(segments).where(eq(segments.id, automation.segmentId)).get();
    if (!segment) return failRun(env, run, "the automation's segment no longer exists");
    const plan = await planMembers(env.DB, db, automation);
    const channel = channels[connector.type];
    const { rows, chunkSizes } = memberRows(plan, channel.chunkSize);

    const statements: D1PreparedStatement[] = [
      env.DB.prepare("DELETE FROM automation_run_members WHERE run_id = ?").bind(run.id),
      env.DB.prepare("DELETE FROM automation_chunks WHERE run_id = ?").bind(run.id),
    ];
    for (let i = 0; i < rows.length; i += MEMBER_WRITE_CHUNK) {
      statements.push(
        env.DB.prepare(
          "INSERT INTO automation_run_members (run_id, customer_id, grp, chunk, address) SELECT ?1, value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?2)",
        ).bind(run.id, JSON.stringify(rows.slice(i, i + MEMBER_WRITE_CHUNK))),
      );
    }
    statements.push(
      env.DB.prepare("INSERT INTO automation_chunks (run_id, chunk, status, member_count) SELECT ?1, value ->> 0, 'pending', value ->> 1 FROM json_each(?2)").bind(
        run.id,
        JSON.stringify([...chunkSizes]),
      ),
      env.DB.prepare(
        `UPDATE automation_runs SET status = 'processing', started_at = ?2, member_count = ?3, treated_count = ?4, control_count = ?5, skipped_count = ?6, chunk_count = ?7
         WHERE id = ?1 AND status = 'queued'`,
      ).bind(run.id, Date.now(), plan.memberCount, plan.toAdd.length + plan.inSync.length, plan.control.length, plan.skipped.length, chunkSizes.size),
    );
    await env.DB.batch(statements);
    await reportProgress(env, job, "processing", 5, `Delivering ${plan.toAdd.length} members in ${chunkSizes.size} chunks`);
    run = (await db.select().from(automationRuns).where(eq(automationRuns.id, runId)).get())!;
  }
  await queuePendingChunks(env, run.id);
  await finishIfDone(env, run.id);
}

/**
 * Each member of a plan with its group, its address and, for those to send, its chunk: additions
 * first, then removals (for channels that send them), `chunkSize` to a chunk; a summary channel (0)
 * has one chunk.
 */
function memberRows(plan: MemberPlan, chunkSize: number) {
  const rows: Array<[string, MemberGroup, number | null, string | null]> = [];
  const chunkSizes = new Map<number, number>();
  let nextChunk = 0;
  const chunked = (members: SyncedMember[], group: MemberGroup) => {
    members.forEach(({ customer_id, address }, i) => {
      const chunk = chunkSize === 0 ? 0 : nextChunk + Math.floor(i / chunkSize);
      rows.push([customer_id, group, chunk, address]);
      chunkSizes.set(chunk, (chunkSizes.get(chunk) ?? 0) + 1);
    });
    if (chunkSize > 0) nextChunk += Math.ceil(members.length / chunkSize);
  };
  for (const id of plan.control) rows.push([id, "control", null, null]);
  for (const id of plan.skipped) rows.push([id, "skipped", null, null]);
  for (const m of plan.inSync) rows.push([m.customer_id, "in_sync", null, m.address]);
  chunked(plan.toAdd.map((m) => ({ customer_id: m.customer_id, address: plan.addressOf(m) })), "treated");
  if (plan.removalsSent) chunked(plan.toRemove, "removed");
  else for (const m of plan.toRemove) rows.push([m.customer_id, "removed", null, m.address]);
  return { rows, chunkSizes };
}

async function queuePendingChunks(env: Bindings, runId: string) {
  const { results } = await env.DB.prepare("SELECT chunk FROM automation_chunks WHERE run_id = ? AND status = 'pending' ORDER BY chunk").bind(runId).all<{ chunk: number }>();
  for (let i = 0; i < results.length; i += 100) {
    await env.ACTIVATIONS_QUEUE.sendBatch(results.slice(i, i + 100).map(({ chunk }) => ({ body: { kind: "activation_chunk" as const, runId, chunk } })));
  }
}

const isFinished = (run: RunRecord) => run.status === "success" || run.status === "partial" || run.status === "failed";

/**
 * Delivers one chunk, once in effect: the chunk is claimed (a delivered or failed chunk, or one
 * another consumer holds, is not sent again), webhook requests carry the chunk's idempotency key,
 * list upserts and removals change nothing when repeated, and per-member channels send each member
 * at most once (memberLedger). Retryable provider failures (no answer, 408, 429, 5xx) are retried a
 * few times in place, honouring Retry-After, then through the queue; others fail the chunk at once.
 */
export async function deliverChunk(env: Bindings, runId: string, chunk: number) {
  const db = database(env.DB);
  const now = Date.now();
  const claim = await env.DB.prepare(
    `UPDATE automation_chunks SET status = 'sending', claimed_at = ?3, attempts = attempts + 1
     WHERE run_id = ?1 AND chunk = ?2 AND (status = 'pending' OR (status = 'sending' AND claimed_at < ?4))
     RETURNING attempts`,
  )
    .bind(runId, chunk, now, now - CLAIM_LEASE_MS)
    .first<Claim>();
  if (!claim) {
    const state = await env.DB.prepare("SELECT status, claimed_at FROM automation_chunks WHERE run_id = ? AND chunk = ?").bind(runId, chunk).first<{ status: string; claimed_at: number }>();
    // Someone else is delivering it: look again once their lease has run out.
    if (state?.status === "sending") throw new RetryLater("the chunk is being delivered by another consumer", Math.ceil((state.claimed_at + CLAIM_LEASE_MS - now) / 1000) + 1);
    return;
  }
  try {
    await sendClaimedChunk(env, db, runId, chunk, claim);
  } catch (error) {
    // Anything unexpected gives the chunk back, so the queue's retry can claim it again.
    await env.DB.prepare("UPDATE automation_chunks SET status = 'pending', last_error = ?3 WHERE run_id = ?1 AND chunk = ?2 AND status = 'sending'")
      .bind(runId, chunk, error instanceof Error ? error.message.slice(0, 500) : "delivery failed")
      .run();
    throw error;
  }
}

/** A consumer's hold on a chunk: `attempts` after its claim tells its claim from a later one. */
type Claim = { attempts: number };

type Outcome = { kind: "delivered" } | { kind: "failed"; message: string } | { kind: "retry"; message: string; retryAfterSeconds: number | null };

async function sendClaimedChunk(env: Bindings, db: Database, runId: string, chunk: number, claim: Claim) {
  const run = (await db.select().from(automationRuns).where(eq(automationRuns.id, runId)).get())!;
  const automation = await db.select().from(automations).where(eq(automations.id, run.automationId)).get();
  const connector = automation && (await db.select().from(connectors).where(eq(connectors.id, automation.connectorId)).get());
  if (!automation || !connector) return failChunk(env, run, chunk, "the automation or its connector no longer exists");
  const segment = await db.select({ id: segments.id, name: segments.name }).from(segments).where(eq(segments.id, automation.segmentId)).get();
  const credentials = await connectorCredentials(env, connector);
  const channel = channels[connector.type];
  const { added, removed } = await chunkMembers(env.DB, run, chunk, automation, requiredAddress(connector.type));
  const batch: DeliveryBatch = {
    runId,
    automationId: automation.id,
    segment: segment ?? { id: automation.segmentId, name: "(deleted segment)" },
    chunk,
    added,
    removed,
    // The run in numbers, for channels that post one summary (counted only for them).
    summary:
      channel.chunkSize === 0
        ? await runSummary(env.DB, run)
        : { member_count: run.memberCount, added: 0, removed: 0, held_out: run.controlCount, skipped_no_address: run.skippedCount },
    message: automation.message ?? null,
    idempotencyKey: `${runId}:${chunk}`,
  };
  const context = channelContext(env, connector.id);
  const ledger = memberLedger(env.DB, runId);
  let outcome: Outcome;
  try {
    outcome = await deliverWithRetries(channel, credentials, batch, context, ledger, (error) => `${error.providerStatus ?? "no answer"}: ${withoutSecrets(error.message, connector, credentials)}`);
  } finally {
    await ledger.settle();
  }
  if (outcome.kind === "failed") return failChunk(env, run, chunk, outcome.message);
  if (outcome.kind === "retry") {
    await env.DB.prepare("UPDATE automation_chunks SET status = 'pending', last_error = ?3 WHERE run_id = ?1 AND chunk = ?2 AND status = 'sending'").bind(runId, chunk, outcome.message).run();
    throw new RetryLater(outcome.message, outcome.retryAfterSeconds ?? retryDelaySeconds(claim.attempts));
  }
  // Only this claim marks it: a consumer whose lease ran out while another took the chunk over does not.
  await env.DB.prepare("UPDATE automation_chunks SET status = 'delivered', delivered_at = ?3, last_error = NULL WHERE run_id = ?1 AND chunk = ?2 AND status = 'sending' AND attempts = ?4")
    .bind(runId, chunk, Date.now(), claim.attempts)
    .run();
  await reportChunkProgress(env, run);
  await finishIfDone(env, runId);
}

/** The channel's delivery of the batch, retried in place while that is quick; then handed back to the queue. */
async function deliverWithRetries(
  channel: Channel,
  credentials: Record<string, unknown>,
  batch: DeliveryBatch,
  context: ChannelContext,
  ledger: MemberLedger,
  describe: (error: ProviderError) => string,
): Promise<Outcome> {
  const send = channel.deliverMember
    ? async () => {
        for (const member of batch.added) await ledger.sendOnce(member.customer_id, () => channel.deliverMember!(credentials, member, batch, context));
      }
    : () => channel.deliver!(credentials, batch, context);
  for (let attempt = 1; ; attempt++) {
    try {
      await send();
      return { kind: "delivered" };
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      const message = describe(error);
      if (!retryable(error)) return { kind: "failed", message };
      const wait = error.retryAfterSeconds ?? 0.25 * 2 ** (attempt - 1);
      if (attempt < IN_PLACE_ATTEMPTS && wait <= IN_PLACE_MAX_WAIT_SECONDS) {
        await new Promise((resolve) => setTimeout(resolve, wait * 1000));
        continue;
      }
      return { kind: "retry", message, retryAfterSeconds: error.retryAfterSeconds };
    }
  }
}

type MemberLedger = ReturnType<typeof memberLedger>;

/**
 * At most once per member, for channels that send one request per member with no idempotency key
 * (SES, Twilio, MessageBird). `delivered`: 0 not sent, 2 being sent, 1 sent. Just before its request a
 * member is claimed (0 → 2) by the same small UPDATE that records the member sent before it (2 → 1), so
 * a send costs one write. If delivery stops between a provider's answer and that write (the Worker
 * dies, a lease runs out), the member stays at 2: whoever delivers the chunk next skips it, and the run
 * reports it as delivery unknown. A claim takes only a member still at 0, so not even two consumers
 * holding the same chunk can send one member twice. A provider that certainly did not act (it answered
 * 4xx or 503) gives the member back (2 → 0) for the retry or a replay; no answer, or another 5xx, leaves
 * it unknown.
 */
function memberLedger(d1: D1Database, runId: string) {
  /** sent by this delivery, its 2 → 1 not yet written */
  let unrecorded: string | null = null;
  /** members this delivery is done with (sent, unknown, or someone else's), skipped on an in-place retry */
  const done = new Set<string>();
  return {
    async sendOnce(customerId: string, send: () => Promise<void>) {
      if (done.has(customerId)) return;
      const { results } = await d1
        .prepare(
          `UPDATE automation_run_members SET delivered = CASE customer_id WHEN ?3 THEN 2 ELSE 1 END
           WHERE run_id = ?1 AND ((customer_id = ?2 AND delivered = 2) OR (customer_id = ?3 AND delivered = 0)) RETURNING customer_id`,
        )
        .bind(runId, unrecorded, customerId)
        .all<{ customer_id: string }>();
      unrecorded = null;
      done.add(customerId);
      if (!results.some((row) => row.customer_id === customerId)) return;
      try {
        await send();
      } catch (error) {
        if (error instanceof ProviderError && certainlyNotSent(error)) {
          await d1.prepare("UPDATE automation_run_members SET delivered = 0 WHERE run_id = ? AND customer_id = ? AND delivered = 2").bind(runId, customerId).run();
          done.delete(customerId);
        }
        throw error;
      }
      unrecorded = customerId;
    },
    /** Records the last member sent. */
    async settle() {
      if (unrecorded) await d1.prepare("UPDATE automation_run_members SET delivered = 1 WHERE run_id = ? AND customer_id = ? AND delivered = 2").bind(runId, unrecorded).run();
      unrecorded = null;
    },
  };
}

async function runSummary(d1: D1Database, run: RunRecord) {
  const counts = await d1
    .prepare("SELECT COALESCE(SUM(grp = 'treated'), 0) AS added, COALESCE(SUM(grp = 'removed'), 0) AS removed FROM automation_run_members WHERE run_id = ?")
    .bind(run.id)
    .first<{ added: number; removed: number }>();
  return { member_count: run.memberCount, added: counts?.added ?? 0, removed: counts?.removed ?? 0, held_out: run.controlCount, skipped_no_address: run.skippedCount };
}

/**
 * The chunk's members still to send, with the profile fields templates and webhooks carry. Each is
 * addressed as the run recorded it (`address`); a member who left the segment keeps the address it
 * was added with, which is what the list holds, even when its customer row has gone since.
 */
async function chunkMembers(d1: D1Database, run: RunRecord, chunk: number, automation: AutomationRecord, needed: "email" | "phone" | undefined) {
  const { results } = await d1
    .prepare(
      `SELECT m.customer_id, m.grp, m.address, c.segment_label, c.churn_risk, c.frequency, c.monetary_cents, c.extra_features,
              json_extract(c.extra_features, ?4) AS email, json_extract(c.extra_features, ?5) AS phone
       FROM automation_run_members m LEFT JOIN customers c ON c.project_id = ?3 AND c.customer_id = m.customer_id
       WHERE m.run_id = ?1 AND m.chunk = ?2 AND m.delivered = 0 ORDER BY m.customer_id`,
    )
    .bind(run.id, chunk, run.projectId, automation.address.email ? `$."${automation.address.email}"` : "$.__none__", automation.address.phone ? `$."${automation.address.phone}"` : "$.__none__")
    .all<Record<string, any>>();
  const added: DeliveryMember[] = [];
  const removed: RemovedMember[] = [];
  const current = (row: Record<string, any>, field: "email" | "phone") => (needed === field && row.address != null ? String(row.address) : row[field] == null ? null : String(row[field]));
  for (const row of results) {
    if (row.grp === "removed") {
      // Rows from before addresses were recorded fall back to the profile's current address.
      removed.push({ customer_id: row.customer_id, address: needed ? current(row, needed) : null });
      continue;
    }
    added.push({
      customer_id: row.customer_id,
      email: current(row, "email"),
      phone: current(row, "phone"),
      fields: {
        segment_label: row.segment_label,
        churn_risk: row.churn_risk,
        rfm_frequency: row.frequency,
        rfm_monetary: row.monetary_cents == null ? null : row.monetary_cents / 100,
        extra_features: row.extra_features ? JSON.parse(row.extra_features) : {},
      },
    });
  }
  return { added, removed };
}

async function failChunk(env: Bindings, run: RunRecord, chunk: number, error: string) {
  await env.DB.prepare("UPDATE automation_chunks SET status = 'failed', last_error = ?3, claimed_at = NULL WHERE run_id = ?1 AND chunk = ?2 AND status IN ('pending', 'sending')")
    .bind(run.id, chunk, error.slice(0, 500))
    .run();
  await reportChunkProgress(env, run);
  await finishIfDone(env, run.id);
}

/** A chunk whose message ran out of retries (dead letter): failed with its last error. */
export async function deadLetterChunk(env: Bindings, runId: string, chunk: number) {
  const db = database(env.DB);
  const run = await db.select().from(automationRuns).where(eq(automationRuns.id, runId)).get();
  if (!run || isFinished(run)) return;
  const row = await db.select().from(automationChunks).where(and(eq(automationChunks.runId, runId), eq(automationChunks.chunk, chunk))).get();
  await failChunk(env, run, chunk, `gave up after ${row?.attempts ?? 0} attempts: ${row?.lastError ?? "unknown error"}`);
}

/** A plan message that ran out of retries: the run ends failed. */
export async function deadLetterPlan(env: Bindings, runId: string) {
  const run = await database(env.DB).select().from(automationRuns).where(eq(automationRuns.id, runId)).get();
  if (run && !isFinished(run)) await failRun(env, run, "the run could not be planned after several attempts");
}

async function failRun(env: Bindings, run: RunRecord, reason: string) {
  const db = database(env.DB);
  const ended = await db
    .update(automationRuns)
    .set({ status: "failed", errorMessage: reason, finishedAt: new Date() })
    .where(and(eq(automationRuns.id, run.id), eq(automationRuns.status, run.status)))
    .returning()
    .get();
  if (!ended) return;
  await failRunJob(db, env, run.jobId, reason);
}

/** Ends a run's job as failed (the job goes only with its project, and then the run with it). */
async function failRunJob(db: Database, env: Bindings, jobId: string, reason: string, result: Record<string, unknown> | null = null) {
  const job = await findJob(db, jobId);
  if (job) await failJob(db, env, job, reason, result);
}

async function reportChunkProgress(env: Bindings, run: RunRecord) {
  const counts = await env.DB.prepare("SELECT COUNT(*) AS total, SUM(status IN ('delivered', 'failed')) AS done FROM automation_chunks WHERE run_id = ?").bind(run.id).first<{ total: number; done: number }>();
  if (!counts?.total) return;
  await reportProgress(env, { id: run.jobId }, "processing", 5 + Math.floor((90 * counts.done) / counts.total), `Delivered ${counts.done} of ${counts.total} chunks`);
}

/**
 * Ends the run once no chunk is pending or being sent: success when every chunk was delivered and
 * every member's delivery is known, partial when some chunk failed or some member's delivery is
 * unknown (memberLedger), failed when no chunk was delivered (with the last error). Only one caller
 * can end it (the update is conditional), so concurrent chunk consumers agree.
 */
async function finishIfDone(env: Bindings, runId: string) {
  const counts = await env.DB.prepare(
    `SELECT COUNT(*) AS total, COALESCE(SUM(status IN ('pending', 'sending')), 0) AS open, COALESCE(SUM(status = 'failed'), 0) AS failed,
            (SELECT last_error FROM automation_chunks WHERE run_id = ?1 AND status = 'failed' ORDER BY chunk DESC LIMIT 1) AS last_error
     FROM automation_chunks WHERE run_id = ?1`,
  )
    .bind(runId)
    .first<{ total: number; open: number; failed: number; last_error: string | null }>();
  if (!counts || counts.open > 0) return;
  // Counted from the members once the run is over, so no delivery (a crashed one, a repeated one) can miscount them.
  const members = await env.DB.prepare(
    `SELECT COALESCE(SUM(m.grp = 'treated' AND ${SENT_TO_MEMBER}), 0) AS delivered, COALESCE(SUM(m.delivered = 2), 0) AS unknown
     FROM automation_run_members m LEFT JOIN automation_chunks c ON c.run_id = m.run_id AND c.chunk = m.chunk WHERE m.run_id = ?`,
  )
    .bind(runId)
    .first<{ delivered: number; unknown: number }>();
  const unknown = members?.unknown ?? 0;
  const status = counts.failed === 0 && unknown === 0 ? "success" : counts.failed === counts.total ? "failed" : "partial";
  const unknownMessage = unknown
    ? `delivery unknown for ${unknown} member${unknown === 1 ? "" : "s"}: the provider was called but the outcome was not recorded (no answer, or delivery stopped mid-way); they are not sent again`
    : null;
  const errorMessage = [counts.failed ? counts.last_error : null, unknownMessage].filter(Boolean).join("; ") || null;
  const db = database(env.DB);
  const run = await db
    .update(automationRuns)
    .set({ status, finishedAt: new Date(), errorMessage, deliveredCount: members?.delivered ?? 0, deliveryUnknownCount: unknown })
    .where(and(eq(automationRuns.id, runId), eq(automationRuns.status, "processing")))
    .returning()
    .get();
  if (!run) return;
  const summary = `${run.deliveredCount} delivered, ${run.controlCount} held out, ${run.skippedCount} skipped${unknown ? `, ${unknown} delivery unknown` : ""}${counts.failed ? `, ${counts.failed} of ${counts.total} chunks failed` : ""}`;
  if (status === "failed") {
    await failRunJob(db, env, run.jobId, run.errorMessage ?? "delivery failed", { run: publicRun(run) });
  } else {
    await db.batch([completeJobStatement(db, run.jobId, { run: publicRun(run) }, summary)]);
    await reportProgress(env, { id: run.jobId }, "completed", 100, summary);
  }
}

/**
 * Sends a finished run's failed chunks again (and only those), under a new job. Per-member channels
 * skip members a failed chunk had already reached, and those whose delivery is unknown.
 */
export async function replayRun(env: Bindings, db: Database, run: RunRecord) {
  if (!isFinished(run)) throw new ApiError("conflict", { reason: "the run is still in progress" });
  const failed = await env.DB.prepare("SELECT COUNT(*) AS n FROM automation_chunks WHERE run_id = ? AND status = 'failed'").bind(run.id).first<{ n: number }>();
  if (!failed?.n) throw new ApiError("conflict", { reason: "the run has no failed chunks" });
  const job = newJob({ projectId: run.projectId, organizationId: run.organizationId, type: "activation", status: "processing", message: `Replaying ${failed.n} failed chunks` });
  try {
    await db.batch([
      db.insert(jobs).values({ ...job, startedAt: new Date(), attempts: 1 }),
      db.update(automationRuns).set({ status: "processing", jobId: job.id, finishedAt: null, errorMessage: null }).where(eq(automationRuns.id, run.id)),
      db.update(automationChunks).set({ status: "pending", attempts: 0, claimedAt: null }).where(and(eq(automationChunks.runId, run.id), eq(automationChunks.status, "failed"))),
    ]);
  } catch (error) {
    if (isUniqueViolation(error)) throw new ApiError("conflict", { reason: "another run of this automation is in progress" });
    throw error;
  }
  await queuePendingChunks(env, run.id);
  return { job, chunks: failed.n };
}

/**
 * After a model run: each active segment_change automation of the project whose segment now differs
 * from its last successful sync (members to add or remove) starts a run. Automations already running
 * are left alone; their next trigger picks the change up.
 */
export async function runChangedSegmentAutomations(env: Bindings, projectId: string) {
  const db = database(env.DB);
  const candidates = await db.select().from(automations).where(and(eq(automations.projectId, projectId), eq(automations.status, "active"))).all();
  for (const automation of candidates.filter((a) => a.trigger.type === "segment_change")) {
    const plan = await planMembers(env.DB, db, automation);
    if (plan.toAdd.length === 0 && plan.toRemove.length === 0) continue;
    await startRun(env, db, automation, "segment_change").catch(skipConflict);
  }
}

/**
 * The Cron Trigger's minute: every active schedule automation whose cron matches it starts a run.
 * Claiming the minute on the automation first means a retried or overlapping invocation cannot run
 * the same minute twice.
 */
export async function runScheduledAutomations(env: Bindings, at: Date) {
  const db = database(env.DB);
  const minute = Math.floor(at.getTime() / 60_000) * 60_000;
  const { results } = await env.DB.prepare("SELECT id FROM automations WHERE status = 'active' AND trigger ->> '$.type' = 'schedule'").all<{ id: string }>();
  for (const { id } of results) {
    const automation = (await db.select().from(automations).where(eq(automations.id, id)).get())!;
    if (automation.trigger.type !== "schedule" || !cronMatches(parseCron(automation.trigger.cron), new Date(minute))) continue;
    const claimed = await env.DB.prepare("UPDATE automations SET last_scheduled_at = ?2 WHERE id = ?1 AND (last_scheduled_at IS NULL OR last_scheduled_at < ?2) RETURNING id")
      .bind(id, minute)
      .first();
    if (claimed) await startRun(env, db, automation, "schedule").catch(skipConflict);
  }
}

const skipConflict = (error: unknown) => {
  if (!(error instanceof ApiError && error.code === "conflict")) throw error;
};

/** A run with no delivery activity for this long is taken to have lost its messages. */
const STALL_MS = 10 * 60_000;

/**
 * Safety net, from the Cron Trigger: a run queued or processing with no chunk claimed or delivered
 * for STALL_MS (its queue messages lost, e.g. a local dev server restarted) gets its plan or pending
 * chunks queued again. Delivery is idempotent, so a run that was only slow loses nothing by it.
 */
export async function resumeStalledRuns(env: Bindings, now = Date.now()) {
  const { results } = await env.DB.prepare(
    `SELECT r.id, r.status FROM automation_runs r
     WHERE r.status IN ('queued', 'processing') AND COALESCE(r.started_at, r.created_at) < ?1
       AND NOT EXISTS (SELECT 1 FROM automation_chunks c WHERE c.run_id = r.id AND (c.claimed_at >= ?1 OR c.delivered_at >= ?1))`,
  )
    .bind(now - STALL_MS)
    .all<{ id: string; status: string }>();
  for (const run of results) {
    if (run.status === "queued") await env.ACTIVATIONS_QUEUE.send({ kind: "activation_plan", runId: run.id });
    else await queuePendingChunks(env, run.id);
  }
  return results.length;
}
