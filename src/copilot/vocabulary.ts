import { compileConditions, Conditions, EXTRA_PREFIX, filterFields, FilterError } from "../services/customer-filters";

/** What a project offers the copilot beyond the profile fields: its customers' extra_features keys, with a few values each. */
export type CopilotVocabulary = {
  extraFeatures: Array<{ key: string; type: string; examples: Array<string | number> }>;
};

/** The fields rules may use in this project: every profile field and the extra_features keys it has. */
export function projectFields(vocabulary: CopilotVocabulary): string[] {
  return [...Object.keys(filterFields), ...vocabulary.extraFeatures.map((f) => `${EXTRA_PREFIX}${f.key}`)];
}

/**
 * Why rules cannot be used here ([] when they can): the rules schema that segments/preview and segment
 * creation take, the project's own fields, and the type checks of the filter compiler.
 */
export function checkRules(rules: unknown, vocabulary: CopilotVocabulary): string[] {
  const parsed = Conditions.min(1).safeParse(rules);
  if (!parsed.success) return parsed.error.issues.map((i) => `rules.${i.path.join(".")}: ${i.message}`);
  const fields = new Set(projectFields(vocabulary));
  const unknown = parsed.data.filter((c) => !fields.has(c.field)).map((c) => `rules: ${c.field} is not a field of this project`);
  if (unknown.length) return unknown;
  try {
    compileConditions(parsed.data);
    return [];
  } catch (error) {
    if (error instanceof FilterError) return [`rules.${error.path}: ${error.message}`];
    throw error;
  }
}
