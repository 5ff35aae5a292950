import type { CopilotEngineName } from "../db/schema";
import type { Bindings } from "../env";
import type { Condition } from "../services/customer-filters";
import { parsePrompt } from "./parser";
import { checkRules, type CopilotVocabulary } from "./vocabulary";
import { workersAiEngine } from "./workers-ai";

export type EngineAnswer = { ok: true; rules: Condition[] } | { ok: false; notUnderstood: string[]; reasons: string[] };

/** A way of turning a sentence into rules. Engines never touch data: the service previews and saves. */
export interface CopilotEngine {
  name: CopilotEngineName;
  model: string;
  suggest(prompt: string, vocabulary: CopilotVocabulary): Promise<EngineAnswer>;
}

export const PARSER_MODEL = "segmento-grammar-v1";

export const parserEngine: CopilotEngine = {
  name: "parser",
  model: PARSER_MODEL,
  async suggest(prompt, vocabulary) {
    const outcome = parsePrompt(prompt, { extraKeys: vocabulary.extraFeatures.map((f) => f.key) });
    if (!outcome.ok) return outcome;
    const problems = checkRules(outcome.rules, vocabulary);
    return problems.length ? { ok: false, notUnderstood: [], reasons: problems } : outcome;
  },
};

/**
 * The engines to try, in order (COPILOT_ENGINE): "workers-ai" asks the model first when the AI
 * binding exists and falls back to the grammar; "parser" (the default) uses the grammar alone.
 */
export function copilotEngines(env: Bindings): CopilotEngine[] {
  if (env.COPILOT_ENGINE === "workers-ai" && env.AI) return [workersAiEngine(env.AI), parserEngine];
  return [parserEngine];
}
