import { sqliteTable, text, integer, index } from "drizzle-orm/sqlite-core";
import { projects } from "./projects";

export const copilotStatuses = ["success", "error"] as const;
export const copilotEngines = ["workers-ai", "parser"] as const;
export type CopilotEngineName = (typeof copilotEngines)[number];

/**
 * One row per copilot call (the log behind GET /api/analytics/copilot). The prompt is the tenant's
 * data: it is kept with the project and deleted with it.
 */
export const copilotCalls = sqliteTable(
  "copilot_calls",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id").notNull(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    /** the session's user, or null when an API key called */
    userId: text("user_id"),
    apiKeyId: text("api_key_id"),
    status: text("status", { enum: copilotStatuses }).notNull(),
    errorCode: text("error_code"),
    /** the engine that answered (on failure, the last one tried) */
    engine: text("engine", { enum: copilotEngines }).notNull(),
    model: text("model").notNull(),
    latencyMs: integer("latency_ms").notNull(),
    prompt: text("prompt").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("copilot_calls_project_time_idx").on(t.projectId, t.createdAt), index("copilot_calls_org_time_idx").on(t.organizationId, t.createdAt)],
);
