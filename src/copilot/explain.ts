import type { Locale } from "../i18n";
import type { Condition } from "../services/customer-filters";

/**
 * A sentence saying what rules select, built from the rules alone: whatever an engine was told or
 * said, the explanation can only describe conditions that passed the rules schema.
 */
const fieldNames: Record<Locale, Record<string, string>> = {
  en: {
    customer_id: "customer id",
    rfm_recency_days: "days since the last purchase",
    rfm_frequency: "number of purchases",
    rfm_monetary: "total spend",
    return_rate: "return rate",
    churn_score: "churn score",
    churn_risk: "churn risk",
    expected_purchases_90d: "expected purchases in the next 90 days",
    abc_category: "ABC category",
    uplift_score: "uplift score",
    segment_id: "segment id",
    segment_label: "segment",
    first_purchase_at: "first purchase",
    last_transaction_at: "last purchase",
  },
  tr: {
    customer_id: "müşteri kimliği",
    rfm_recency_days: "son alışverişten bu yana geçen gün",
    rfm_frequency: "alışveriş sayısı",
    rfm_monetary: "toplam harcama",
    return_rate: "iade oranı",
    churn_score: "churn skoru",
    churn_risk: "churn riski",
    expected_purchases_90d: "önümüzdeki 90 günde beklenen alışveriş",
    abc_category: "ABC kategorisi",
    uplift_score: "uplift skoru",
    segment_id: "segment kimliği",
    segment_label: "segment",
    first_purchase_at: "ilk alışveriş",
    last_transaction_at: "son alışveriş",
  },
};

const operators: Record<Locale, Record<string, string>> = {
  en: { eq: "is", neq: "is not", gt: "is more than", gte: "is at least", lt: "is less than", lte: "is at most", in: "is one of", contains: "contains", between: "is between", and: "and" },
  tr: { eq: "eşittir", neq: "eşit değildir", gt: "büyüktür", gte: "en az", lt: "küçüktür", lte: "en fazla", in: "şunlardan biri", contains: "içerir", between: "arasında", and: "ve" },
};

const format = (value: unknown) => (typeof value === "string" ? `"${value}"` : String(value));

function describe(condition: Condition, locale: Locale): string {
  const words = operators[locale];
  const field = condition.field.startsWith("extra_features.") ? condition.field.slice("extra_features.".length) : (fieldNames[locale][condition.field] ?? condition.field);
  switch (condition.op) {
    case "range":
      if (condition.min !== undefined && condition.max !== undefined) return `${field} ${words.between} ${format(condition.min)}–${format(condition.max)}`;
      return condition.min !== undefined ? `${field} ${words.gte} ${format(condition.min)}` : `${field} ${words.lte} ${format(condition.max)}`;
    case "in":
      return `${field} ${words.in} ${condition.values.map(format).join(", ")}`;
    default:
      return `${field} ${words[condition.op]} ${format(condition.value)}`;
  }
}

export function explainRules(rules: Condition[], locale: Locale): string {
  const intro = locale === "tr" ? "Şu koşulların tümünü sağlayan müşteriler: " : "Customers for whom all of these hold: ";
  return `${intro}${rules.map((r) => describe(r, locale)).join(`; `)}.`;
}
