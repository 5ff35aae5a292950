import { z } from "@hono/zod-openapi";
import { automationStatuses } from "../../db/schema";
import { DisplayName, pagedList, Timestamp } from "../schemas";

export const AutomationIdParam = z.object({
  automationId: z.string().min(1).max(64).openapi({ param: { name: "automationId", in: "path" } }),
});

const Trigger = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("manual") }),
    z.object({ type: z.literal("segment_change") }),
    z.object({ type: z.literal("schedule"), cron: z.string().min(9).max(100).openapi({ example: "0 9 * * 1", description: "Five fields, UTC" }) }),
  ])
  .openapi("AutomationTrigger", { description: "manual: only POST …/run; segment_change: after a model run that changed the segment; schedule: Cron Triggers" });

/** An extra_features key (quotes and backslashes would break its JSON path). */
const FeatureKey = z.string().min(1).max(64).regex(/^[^"\\]+$/, "an extra_features key without quotes or backslashes");

const Address = z
  .strictObject({ email: FeatureKey.optional(), phone: FeatureKey.optional() })
  .openapi({ description: "Which extra_features key holds each member's email address or phone number (email and SMS channels)" });

const Message = z
  .strictObject({
    subject: z.string().min(1).max(200).optional(),
    body: z.string().min(1).max(5000).openapi({ description: "Template: {{customer_id}}, {{segment_label}}, {{extra_features.<key>}} and other profile fields" }),
  })
  .openapi("AutomationMessage");

const fields = {
  name: DisplayName(),
  segment_id: z.string().min(1).max(64),
  connector_id: z.string().min(1).max(64),
  trigger: Trigger,
  holdout_pct: z.number().int().min(0).max(50).openapi({ description: "Share of members held out as control (never sent), 0–50" }),
  address: Address,
  message: Message.nullable(),
  status: z.enum(automationStatuses),
  outcome_window_days: z.number().int().min(1).max(365).openapi({ description: "Days after a run whose purchases count as its outcome" }),
};

export const CreateAutomationBody = z
  .strictObject({
    ...fields,
    trigger: Trigger.default({ type: "manual" }),
    holdout_pct: fields.holdout_pct.default(10),
    address: Address.default({}),
    message: fields.message.optional(),
    status: fields.status.default("active"),
    outcome_window_days: fields.outcome_window_days.default(30),
  })
  .openapi("CreateAutomationRequest");

export const UpdateAutomationBody = z
  .strictObject(fields)
  .partial()
  .refine((body) => Object.keys(body).length > 0, "give at least one field")
  .openapi("UpdateAutomationRequest");

export const Automation = z
  .object({
    id: z.string(),
    project_id: z.string(),
    name: z.string(),
    segment_id: z.string(),
    connector_id: z.string(),
    trigger: Trigger,
    holdout_pct: z.number().int(),
    address: z.object({ email: z.string().optional(), phone: z.string().optional() }),
    message: Message.nullable(),
    status: z.enum(automationStatuses),
    status_reason: z.string().nullable().openapi({
      description: "Why the system paused it (a model run dropped its cluster segment, or the cluster its hybrid segment narrows); null when a person set the status",
    }),
    outcome_window_days: z.number().int(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Automation");

export const AutomationList = pagedList("automations", Automation).openapi("AutomationList");

const Sampled = z.object({ count: z.number().int(), sample: z.array(z.string()).openapi({ description: "Up to 10 customer ids" }) });
export const AutomationPreview = z
  .object({
    automation_id: z.string(),
    segment_id: z.string(),
    segment_missing: z.boolean().openapi({ description: "The segment no longer exists (a model run dropped the cluster): no members, and a run is refused" }),
    status: z.enum(automationStatuses),
    status_reason: z.string().nullable(),
    member_count: z.number().int(),
    last_synced_at: Timestamp.nullable(),
    to_add: Sampled.openapi({ description: "Treated members the next run delivers (not delivered by the last sync)" }),
    to_remove: Sampled.extend({
      sent: z.boolean().openapi({ description: "Whether the connector is sent them (webhooks, Slack, Teams, Mailchimp, SendGrid with a list); otherwise they are only recorded" }),
    }).openapi({ description: "Members the last sync delivered (or failed to remove) who have left the segment" }),
    holdout: Sampled.openapi({ description: "Members held out as control: never sent" }),
    skipped_no_address: Sampled.openapi({ description: "Treated members without the address the channel needs" }),
    in_sync: z.object({ count: z.number().int() }),
  })
  .openapi("AutomationPreview");

export const RunIdParam = z.object({
  runId: z.string().min(1).max(64).openapi({ param: { name: "runId", in: "path" } }),
});

export const AutomationRun = z
  .object({
    run_id: z.string(),
    automation_id: z.string(),
    job_id: z.string(),
    trigger: z.enum(["manual", "segment_change", "schedule"]),
    status: z.enum(["queued", "processing", "success", "partial", "failed"]),
    member_count: z.number().int(),
    treated: z.number().int(),
    control: z.number().int(),
    skipped_no_address: z.number().int(),
    chunks: z.number().int(),
    delivered: z.number().int(),
    delivery_unknown: z.number().int().openapi({ description: "Email/SMS members whose send was attempted but whose outcome is unknown (delivery stopped mid-way): never sent again" }),
    error_message: z.string().nullable(),
    created_at: Timestamp,
    started_at: Timestamp.nullable(),
    finished_at: Timestamp.nullable(),
  })
  .openapi("AutomationRun");

export const AutomationRunList = pagedList("runs", AutomationRun).openapi("AutomationRunList");

export const RunAccepted = z
  .object({ job_id: z.string(), run_id: z.string(), status: z.string(), chunks: z.number().int().optional() })
  .openapi("AutomationRunAccepted");
