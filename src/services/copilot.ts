import { analyticsStore } from "../analytics";
import { copilotEngines, type CopilotEngine } from "../copilot/engine";
import { explainRules } from "../copilot/explain";
import type { Database } from "../db/client";
import { copilotCalls } from "../db/schema";
import type { Bindings } from "../env";
import { ApiError } from "../errors";
import type { Locale } from "../i18n";
import { newId } from "../lib/ids";
import type { Principal } from "./access";
import type { ProjectRecord } from "./projects";
import { createRuleSegment, previewSegment, publicSegment } from "./segments";
import { extraFeatureVocabulary } from "./signals";
import { consumeCounter } from "./usage-counters";

export type CopilotRequest = { prompt: string; locale: Locale; save?: { name: string } };

/**
 * A sentence to segment rules: one GenAI op taken from the organization's month before any engine runs
 * (429 quota_exceeded), the configured engines tried in order, the rules previewed (and saved as a rule
 * segment when asked), every call logged for GET /api/analytics/copilot. A prompt no engine can turn
 * into valid rules is 422 copilot_failed, saying what was not understood.
 */
export async function askCopilot(env: Bindings, db: Database, principal: Principal, project: ProjectRecord, request: CopilotRequest) {
  // Saving creates a segment, which only a session may do (as POST …/segments): refused before metering.
  if (request.save && principal.kind !== "session") throw new ApiError("session_required");
  const started = Date.now();
  const engines = copilotEngines(env);
  let engine: CopilotEngine = engines[0]!;
  let metered = false;
  const finish = (status: "success" | "error", errorCode: string | null) =>
    recordCall(env, db, principal, project, { status, errorCode, engine, metered, prompt: request.prompt, latencyMs: Date.now() - started });
  try {
    await consumeCounter(db, env.DB, project.organizationId, "genaiOps");
    metered = true;
    const vocabulary = { extraFeatures: await extraFeatureVocabulary(env.DB, project, engines.some((e) => e.name === "workers-ai")) };
    const failures: Array<{ engine: string; not_understood: string[]; reasons: string[] }> = [];
    let rules = null;
    for (engine of engines) {
      const answer = await engine.suggest(request.prompt, vocabulary);
      if (answer.ok) {
        rules = answer.rules;
        break;
      }
      failures.push({ engine: engine.name, not_understood: answer.notUnderstood, reasons: answer.reasons });
    }
    if (!rules) {
      const notUnderstood = failures.flatMap((f) => f.not_understood);
      // The caller's own words, quoted: language-neutral inside the localized message; the reasons are in detail.
      const reason = notUnderstood.length ? notUnderstood.map((t) => `"${t}"`).join(", ") : failures.flatMap((f) => f.reasons).join("; ");
      throw new ApiError("copilot_failed", { engines: failures }, { reason });
    }
    const preview = await previewSegment(env.DB, db, project.id, rules);
    const segment = request.save ? publicSegment(await createRuleSegment(env.DB, db, project, { name: request.save.name, rules })) : undefined;
    await finish("success", null);
    return { rules, explanation: explainRules(rules, request.locale), preview, model: engine.model, engine: engine.name, ...(segment && { segment }) };
  } catch (error) {
    await finish("error", error instanceof ApiError ? error.code : "internal_error");
    throw error;
  }
}

/** The call's log row (kept with the project) and, when it took an op, a genai_op usage event for the usage series. */
async function recordCall(
  env: Bindings,
  db: Database,
  principal: Principal,
  project: ProjectRecord,
  call: { status: "success" | "error"; errorCode: string | null; engine: CopilotEngine; metered: boolean; prompt: string; latencyMs: number },
) {
  await db.insert(copilotCalls).values({
    id: newId(),
    organizationId: project.organizationId,
    projectId: project.id,
    userId: principal.kind === "session" ? principal.user.id : null,
    apiKeyId: principal.kind === "apiKey" ? principal.apiKeyId : null,
    status: call.status,
    errorCode: call.errorCode,
    engine: call.engine.name,
    model: call.engine.model,
    latencyMs: call.latencyMs,
    prompt: call.prompt,
    createdAt: new Date(),
  });
  if (call.metered) {
    await analyticsStore(env).record([
      { organizationId: project.organizationId, type: "genai_op", projectId: project.id, apiKeyId: principal.kind === "apiKey" ? principal.apiKeyId : null, detail: call.status, value: 1 },
    ]);
  }
}
