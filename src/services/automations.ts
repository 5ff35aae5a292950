import { and, asc, eq, inArray } from "drizzle-orm";
import type { Database } from "../db/client";
import { automationRuns, automations, connectors, segments, type AutomationAddress, type AutomationMessage, type AutomationTrigger, type MemberRole } from "../db/schema";
import { ApiError, type FieldError } from "../errors";
import { channels, type ChannelType } from "../activations/channels";
import { CronError, parseCron } from "../activations/cron";
import { isHoldout } from "../activations/holdout";
import { newId } from "../lib/ids";
import { assertCanAct, type Principal } from "./access";
import { activateAutomation } from "./quotas";
import { segmentMemberScope } from "./segments";
import { pageOf, type PageRequest } from "./paging";

export type AutomationRecord = typeof automations.$inferSelect;

export type AutomationInput = {
  name: string;
  segment_id: string;
  connector_id: string;
  trigger: AutomationTrigger;
  holdout_pct: number;
  address: AutomationAddress;
  message?: AutomationMessage | null;
  status: "active" | "paused";
  outcome_window_days: number;
};

export function publicAutomation(automation: AutomationRecord) {
  return {
    id: automation.id,
    project_id: automation.projectId,
    name: automation.name,
    segment_id: automation.segmentId,
    connector_id: automation.connectorId,
    trigger: automation.trigger,
    holdout_pct: automation.holdoutPct,
    address: automation.address,
    message: automation.message ?? null,
    status: automation.status,
    status_reason: automation.statusReason,
    outcome_window_days: automation.outcomeWindowDays,
    created_at: automation.createdAt.toISOString(),
    updated_at: automation.updatedAt.toISOString(),
  };
}

/** What each channel needs of a member and of the automation to deliver. */
const channelNeeds: Record<ChannelType, { address?: "email" | "phone"; message?: "body" | "subject_and_body" }> = {
  custom_webhook: {},
  sendgrid: { address: "email" },
  mailchimp: { address: "email" },
  amazon_ses: { address: "email", message: "subject_and_body" },
  twilio: { address: "phone", message: "body" },
  messagebird: { address: "phone", message: "body" },
  slack: {},
  teams: {},
};

/** The address field a channel needs of every member it sends to, if any. */
export const requiredAddress = (type: ChannelType) => channelNeeds[type].address;

const invalid = (path: string, message: string): FieldError => ({ path, code: "invalid_value", message });

/** The segment and connector must be the project's own; the channel decides which address and message fields are required. */
async function checkedAutomation(db: Database, projectId: string, input: AutomationInput) {
  const errors: FieldError[] = [];
  const segment = await db.select({ id: segments.id }).from(segments).where(and(eq(segments.id, input.segment_id), eq(segments.projectId, projectId))).get();
  if (!segment) errors.push(invalid("segment_id", "not a segment of this project"));
  const connector = await db
    .select({ id: connectors.id, type: connectors.type, settings: connectors.settings })
    .from(connectors)
    .where(and(eq(connectors.id, input.connector_id), eq(connectors.projectId, projectId)))
    .get();
  if (!connector) errors.push(invalid("connector_id", "not a connector of this project"));
  if (input.trigger.type === "schedule") {
    try {
      parseCron(input.trigger.cron);
    } catch (error) {
      if (!(error instanceof CronError)) throw error;
      errors.push(invalid("trigger.cron", error.message));
    }
  }
  if (connector) {
    const needs = channelNeeds[connector.type];
    if (needs.address && !input.address[needs.address]) errors.push(invalid(`address.${needs.address}`, `a ${connector.type} connector needs the extra_features key that holds each member's ${needs.address}`));
    if (needs.message && !input.message?.body) errors.push(invalid("message.body", `a ${connector.type} connector sends a message: give its body`));
    if (needs.message === "subject_and_body" && !input.message?.subject) errors.push(invalid("message.subject", "an email needs a subject"));
    const sender = { amazon_ses: "fromEmail", twilio: "fromNumber", messagebird: "originator" }[connector.type as string];
    if (sender && !connector.settings[sender]) errors.push(invalid("connector_id", `the connector has no ${sender} to send from`));
  }
  if (errors.length) throw new ApiError("validation_error", errors);
}

export async function createAutomation(db: Database, project: { id: string; organizationId: string }, input: AutomationInput) {
  await checkedAutomation(db, project.id, input);
  const now = new Date();
  const automation: AutomationRecord = {
    id: newId(),
    projectId: project.id,
    organizationId: project.organizationId,
    name: input.name.trim(),
    segmentId: input.segment_id,
    connectorId: input.connector_id,
    trigger: input.trigger,
    holdoutPct: input.holdout_pct,
    address: input.address,
    message: input.message ?? null,
    status: input.status,
    statusReason: null,
    outcomeWindowDays: input.outcome_window_days,
    lastScheduledAt: null,
    createdAt: now,
    updatedAt: now,
  };
  // Stored paused, then activated within the plan's quota; refused, the row goes again.
  await db.insert(automations).values({ ...automation, status: "paused" });
  if (automation.status === "active") {
    await activateAutomation(db, project.organizationId, automation.id).catch(async (error: unknown) => {
      await db.delete(automations).where(eq(automations.id, automation.id));
      throw error;
    });
  }
  return automation;
}

export async function listAutomations(db: Database, projectId: string, page: PageRequest) {
  const where = eq(automations.projectId, projectId);
  return pageOf(
    page,
    (limit, offset) => db.select().from(automations).where(where).orderBy(asc(automations.createdAt), asc(automations.id)).limit(limit).offset(offset).all(),
    () => db.$count(automations, where),
  );
}

/** An automation the caller may see (members of its organization), or act on with `roles`; else 404 / 403. */
export async function automationForPrincipal(db: Database, principal: Principal, automationId: string, roles?: readonly MemberRole[]): Promise<AutomationRecord> {
  const automation = await db.select().from(automations).where(eq(automations.id, automationId)).get();
  await assertCanAct(db, principal, automation, roles);
  return automation!;
}

/** Changes fields; the whole is checked again, and re-activating must fit the plan's quota. */
export async function updateAutomation(db: Database, automation: AutomationRecord, changes: Partial<AutomationInput>) {
  const merged: AutomationInput = { ...inputOf(automation), ...changes };
  await checkedAutomation(db, automation.projectId, merged);
  // Activation first: refused for quota, nothing of the change is applied.
  if (merged.status === "active" && automation.status !== "active") await activateAutomation(db, automation.organizationId, automation.id);
  const updated = await db
    .update(automations)
    .set({
      name: merged.name.trim(),
      segmentId: merged.segment_id,
      connectorId: merged.connector_id,
      trigger: merged.trigger,
      holdoutPct: merged.holdout_pct,
      address: merged.address,
      message: merged.message ?? null,
      status: merged.status,
      // The system's reason for a pause stands until a person re-activates it or points it elsewhere.
      statusReason: merged.status === "active" || merged.segment_id !== automation.segmentId ? null : automation.statusReason,
      outcomeWindowDays: merged.outcome_window_days,
      updatedAt: new Date(),
    })
    .where(eq(automations.id, automation.id))
    .returning()
    .get();
  return updated!;
}

const inputOf = (a: AutomationRecord): AutomationInput => ({
  name: a.name,
  segment_id: a.segmentId,
  connector_id: a.connectorId,
  trigger: a.trigger,
  holdout_pct: a.holdoutPct,
  address: a.address,
  message: a.message,
  status: a.status,
  outcome_window_days: a.outcomeWindowDays,
});

/** Deletes the automation with its runs; a run still delivering refuses (409). */
export async function deleteAutomation(db: Database, automation: AutomationRecord) {
  const running = await db
    .select({ id: automationRuns.id })
    .from(automationRuns)
    .where(and(eq(automationRuns.automationId, automation.id), inArray(automationRuns.status, ["queued", "processing"])))
    .get();
  if (running) throw new ApiError("conflict", { reason: "a run of this automation is in progress", run_id: running.id });
  await db.delete(automations).where(eq(automations.id, automation.id));
}

/** Automations that use a connector: a connector in use cannot be deleted. */
export async function automationsUsingConnector(db: Database, connectorId: string) {
  return db.select({ id: automations.id }).from(automations).where(eq(automations.connectorId, connectorId)).all();
}

export type MemberPlan = {
  memberCount: number;
  /** treated members to deliver (not delivered by the last sync) */
  toAdd: MemberView[];
  /** members the last sync delivered (or failed to remove) who are no longer in the segment */
  toRemove: SyncedMember[];
  /** whether the connector is sent `toRemove` (otherwise they are only recorded) */
  removalsSent: boolean;
  control: string[];
  skipped: string[];
  /** treated members the last sync already delivered */
  inSync: SyncedMember[];
  /** the address (the channel's address field) each treated member is sent to, or null */
  addressOf: (member: MemberView) => string | null;
  lastSyncedAt: Date | null;
  /** the segment no longer exists (a preview only: a run refuses it) */
  segmentMissing: boolean;
};
export type MemberView = { customer_id: string; email: string | null; phone: string | null };
/** A member a sync delivered, with the address it was delivered to (null: none needed, or not recorded). */
export type SyncedMember = { customer_id: string; address: string | null };

const MEMBER_PAGE = 10_000;

/**
 * Who a run of the automation would cover now: the segment's members split into control (the fixed
 * holdout), skipped (no address for the channel), already in sync and to add; and the members the
 * last sync delivered who have left the segment. Nothing is written. A run refuses (409)
 * a segment that no longer exists, as retracting the whole audience; a preview (`missingSegment:
 * "empty"`) shows it as having no members.
 */
export async function planMembers(
  d1: D1Database,
  db: Database,
  automation: AutomationRecord,
  { missingSegment = "refuse" }: { missingSegment?: "refuse" | "empty" } = {},
): Promise<MemberPlan> {
  const segment = await db.select().from(segments).where(eq(segments.id, automation.segmentId)).get();
  const connector = await db.select({ type: connectors.type, settings: connectors.settings }).from(connectors).where(eq(connectors.id, automation.connectorId)).get();
  if ((!segment && missingSegment === "refuse") || !connector) throw new ApiError("conflict", { reason: "the automation's segment or connector no longer exists" });
  const needed = requiredAddress(connector.type);
  const addressOf = (member: MemberView) => (needed ? member[needed] : null);
  const { synced, lastSyncedAt } = await syncedMembers(d1, automation.id);
  const removalsSent = channels[connector.type].sendsRemovals?.(connector.settings) ?? false;
  const plan: MemberPlan = { memberCount: 0, toAdd: [], toRemove: [], removalsSent, control: [], skipped: [], inSync: [], addressOf, lastSyncedAt, segmentMissing: !segment };
  const current = new Set<string>();
  const scope = segment ? segmentMemberScope(segment) : null;
  let after = "";
  while (scope) {
    const { results } = await d1
      .prepare(
        `SELECT customer_id, json_extract(extra_features, ?) AS email, json_extract(extra_features, ?) AS phone FROM customers
         WHERE ${scope.sql} AND customers.customer_id > ? ORDER BY customers.customer_id LIMIT ?`,
      )
      .bind(jsonPath(automation.address.email), jsonPath(automation.address.phone), ...scope.params, after, MEMBER_PAGE)
      .all<{ customer_id: string; email: unknown; phone: unknown }>();
    for (const row of results) {
      current.add(row.customer_id);
      const member: MemberView = { customer_id: row.customer_id, email: addressValue(row.email), phone: addressValue(row.phone) };
      if (await isHoldout(automation.id, row.customer_id, automation.holdoutPct)) plan.control.push(row.customer_id);
      else if (needed && !member[needed]) plan.skipped.push(row.customer_id);
      // Rows from before addresses were recorded (null) take the current one.
      else if (synced.has(row.customer_id)) plan.inSync.push({ customer_id: row.customer_id, address: synced.get(row.customer_id) ?? addressOf(member) });
      else plan.toAdd.push(member);
    }
    if (results.length < MEMBER_PAGE) break;
    after = results.at(-1)!.customer_id;
  }
  plan.memberCount = current.size;
  for (const [id, address] of synced) if (!current.has(id)) plan.toRemove.push({ customer_id: id, address });
  return plan;
}

/** `$."key"`: the JSON path of an extra feature (keys are checked to hold no quote or backslash). */
const jsonPath = (key: string | undefined) => (key ? `$."${key}"` : "$.__segmento_no_address__");
const addressValue = (value: unknown) => (typeof value === "string" && value.trim() ? value.trim() : typeof value === "number" ? String(value) : null);

/**
 * Whether a run member (`m`, its chunk joined as `c`) certainly received what the run sent: marked
 * sent by a per-member channel (1), or in a delivered chunk of a chunk-delivering channel (0). A 2 is
 * a per-member send whose outcome is unknown.
 */
export const SENT_TO_MEMBER = "(m.delivered = 1 OR (m.delivered = 0 AND c.status = 'delivered'))";

/**
 * Treated members the last sync reached, with the address they were sent to: those it delivered (and
 * those whose delivery is unknown: they are never sent again), those it found already in sync, and
 * the members it failed to remove (still on the list). The last sync is the latest planned run that
 * finished, whatever its status: a failed run still records who it reached, and skipping it would
 * send those members again.
 */
async function syncedMembers(d1: D1Database, automationId: string) {
  const [last, lastSuccess] = await Promise.all([
    d1
      .prepare("SELECT id FROM automation_runs WHERE automation_id = ? AND status IN ('success', 'partial', 'failed') AND started_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1")
      .bind(automationId)
      .first<{ id: string }>(),
    d1.prepare("SELECT MAX(finished_at) AS at FROM automation_runs WHERE automation_id = ? AND status IN ('success', 'partial')").bind(automationId).first<{ at: number | null }>(),
  ]);
  const synced = new Map<string, string | null>();
  const lastSyncedAt = lastSuccess?.at == null ? null : new Date(lastSuccess.at);
  if (!last) return { synced, lastSyncedAt };
  const { results } = await d1
    .prepare(
      `SELECT m.customer_id, m.address FROM automation_run_members m
       LEFT JOIN automation_chunks c ON c.run_id = m.run_id AND c.chunk = m.chunk
       WHERE m.run_id = ? AND (m.grp = 'in_sync' OR (m.grp = 'treated' AND (m.delivered = 2 OR ${SENT_TO_MEMBER})) OR (m.grp = 'removed' AND c.status = 'failed'))`,
    )
    .bind(last.id)
    .all<{ customer_id: string; address: string | null }>();
  for (const row of results) synced.set(row.customer_id, row.address);
  return { synced, lastSyncedAt };
}

const SAMPLE = 10;

export function publicPreview(automation: AutomationRecord, plan: MemberPlan) {
  return {
    automation_id: automation.id,
    segment_id: automation.segmentId,
    segment_missing: plan.segmentMissing,
    status: automation.status,
    status_reason: automation.statusReason,
    member_count: plan.memberCount,
    last_synced_at: plan.lastSyncedAt?.toISOString() ?? null,
    to_add: { count: plan.toAdd.length, sample: plan.toAdd.slice(0, SAMPLE).map((m) => m.customer_id) },
    to_remove: { count: plan.toRemove.length, sample: plan.toRemove.slice(0, SAMPLE).map((m) => m.customer_id), sent: plan.removalsSent },
    holdout: { count: plan.control.length, sample: plan.control.slice(0, SAMPLE) },
    skipped_no_address: { count: plan.skipped.length, sample: plan.skipped.slice(0, SAMPLE) },
    in_sync: { count: plan.inSync.length },
  };
}
