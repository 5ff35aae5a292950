/**
 * Message templates: `{{name}}` is replaced by the member's value of that field (`customer_id`,
 * `email`, `phone`, `segment_label`, `churn_risk`, `rfm_frequency`, `rfm_monetary`,
 * `extra_features.<key>`, and `segment_name`); an unknown or empty field renders as nothing.
 */
export function renderTemplate(template: string, values: Record<string, unknown>): string {
  return template.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (_, path: string) => {
    let value: unknown = values;
    for (const part of path.split(".")) value = value && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
    return value === undefined || value === null || typeof value === "object" ? "" : String(value);
  });
}
