import { EXTRA_KEY, type Condition } from "../services/customer-filters";
import { segmentPrototypes } from "../engine/labels";

/**
 * The deterministic copilot: a small grammar of English and Turkish phrases (README, "Copilot") over
 * the rule fields. Each phrase pattern claims a span of the prompt and yields one condition; whatever
 * is left once the filler words are set aside is what the parser did not understand, and then it
 * refuses rather than guess. Pure: the same prompt and vocabulary always give the same rules.
 */

/** What the project offers beyond the profile fields: its customers' extra_features keys. */
export type Vocabulary = { extraKeys: readonly string[] };

export type ParseOutcome = { ok: true; rules: Condition[] } | { ok: false; notUnderstood: string[]; reasons: string[] };

type Cmp = "gt" | "gte" | "lt" | "lte" | "eq";
type Match = { start: number; end: number; rules: Condition[] } | { start: number; end: number; reason: string };
/** `original(i)`: capture group i as the caller wrote it (values keep their case). */
type Phrase = { pattern: RegExp; build: (m: RegExpExecArray, original: (group: number) => string) => Condition[] };

/**
 * Patterns run over a folded copy of the prompt: lower case, Turkish letters to their ASCII bases
 * (ı→i, ş→s, ğ→g, ü→u, ö→o, ç→c), curly apostrophes straightened, one character for one, so spans
 * found in the folded text are spans of the original too. "siparis" and "sipariş" both match.
 */
export function fold(text: string): string {
  const map: Record<string, string> = { İ: "i", I: "i", ı: "i", ş: "s", Ş: "s", ğ: "g", Ğ: "g", ü: "u", Ü: "u", ö: "o", Ö: "o", ç: "c", Ç: "c", "’": "'", "‘": "'", "`": "'" };
  return [...text].map((ch) => map[ch] ?? (ch.toLowerCase().length === 1 ? ch.toLowerCase() : ch)).join("");
}

// A number: 500, 1,000, 1.000 (Turkish thousands), 0.2, 0,2, 2.5k; a currency sign or word around it.
// Bounded (at most 4 separators): an unbounded run like "1,1,1,…" made every pattern rescan it from
// each start, 23 ms for a 1,000-character prompt (bench:copilot).
const NUM = String.raw`(\d{1,15}(?:[.,]\d{1,15}){0,4}k?)`;
const CUR = String.raw`(?:\$|€|₺|£|tl|try|usd|eur|dollars?|euros?|lira)`;
// A Turkish case suffix after a number or code: 500'den, 3'ten, 90'in, TR'deki.
const SUFFIX = String.raw`(?:'?(?:den|dan|ten|tan|in|un|nin|nun|e|a|ye|ya|de|da|te|ta|deki|daki|teki|taki|li|lu|lik|luk)\b)?`;
const MONEY = String.raw`(?:${CUR}\s*)?${NUM}(?:\s*${CUR})?${SUFFIX}`;
const B = String.raw`(?<![a-z0-9])`;
const E = String.raw`(?![a-z0-9])`;

export function parseNumber(raw: string): number {
  let text = raw.toLowerCase();
  const thousand = text.endsWith("k");
  if (thousand) text = text.slice(0, -1);
  if (/^\d{1,3}([.,]\d{3})+$/.test(text)) text = text.replace(/[.,]/g, "");
  else text = text.replace(",", ".");
  const value = Number(text);
  return thousand ? value * 1000 : value;
}

const EN_CMP: Array<[RegExp, Cmp]> = [
  [/^(more than|over|above|greater than|>)$/, "gt"],
  [/^(at least|minimum|min|>=|no less than)$/, "gte"],
  [/^(less than|under|below|fewer than|<)$/, "lt"],
  [/^(at most|maximum|max|<=|up to|no more than)$/, "lte"],
  [/^(exactly|=)$/, "eq"],
];
const EN_CMP_WORDS = String.raw`(more than|over|above|greater than|at least|minimum|min|no less than|less than|under|below|fewer than|at most|maximum|max|up to|no more than|exactly|>=|<=|>|<|=)`;

function enCmp(word: string | undefined): Cmp {
  if (!word) return "eq";
  for (const [re, cmp] of EN_CMP) if (re.test(word.trim())) return cmp;
  return "eq";
}

/** A Turkish comparison that follows its number: fazla/çok/üzeri → gt, az/düşük/altı → lt. */
function trAfter(word: string): Cmp {
  return /^(az|dusuk|alti|altinda|asagi)/.test(word) ? "lt" : "gt";
}

const condition = (field: string, cmp: Cmp, value: number | string): Condition => ({ field, op: cmp, value }) as Condition;
const range = (field: string, a: number, b: number): Condition => ({ field, op: "range", min: Math.min(a, b), max: Math.max(a, b) });

/** One measure (a field) as English and Turkish phrases, with every comparison the grammar knows. */
function measure(
  field: string,
  en: { before: string; after?: string },
  tr: { noun?: string; verb?: string },
  { scale = (n: number) => n, amount = MONEY }: { scale?: (n: number) => number; amount?: string } = {},
): Phrase[] {
  const after = en.after ? String.raw`(?:\s+${en.after})?` : "";
  const phrases: Phrase[] = [
    // spent between 100 and 500
    { pattern: new RegExp(String.raw`${B}${en.before}\s+(?:of\s+|is\s+)?between\s+${amount}\s+and\s+${amount}${after}${E}`, "dg"), build: (m) => [range(field, scale(parseNumber(m[1]!)), scale(parseNumber(m[2]!)))] },
    // spent more than 500, ordered at least 3 times
    { pattern: new RegExp(String.raw`${B}${en.before}\s+(?:of\s+|is\s+)?${EN_CMP_WORDS}\s*${amount}${after}${E}`, "dg"), build: (m) => [condition(field, enCmp(m[1]), scale(parseNumber(m[2]!)))] },
    // spent 500 or more, ordered 3+ times
    { pattern: new RegExp(String.raw`${B}${en.before}\s+${amount}\s*(\+|or more|or less)${after}${E}`, "dg"), build: (m) => [condition(field, m[2] === "or less" ? "lte" : "gte", scale(parseNumber(m[1]!)))] },
  ];
  if (tr.verb) {
    const verb = tr.verb;
    phrases.push(
      // 100 ile 500 arası harcayan
      { pattern: new RegExp(String.raw`${B}${amount}\s+ile\s+${amount}\s+aras[i]n?(?:da)?\s+${verb}${E}`, "dg"), build: (m) => [range(field, scale(parseNumber(m[1]!)), scale(parseNumber(m[2]!)))] },
      // en az 3 sipariş veren, en fazla 500 harcayan
      { pattern: new RegExp(String.raw`${B}en\s+(az|fazla|cok)\s+${amount}\s+${verb}${E}`, "dg"), build: (m) => [condition(field, m[1] === "az" ? "gte" : "lte", scale(parseNumber(m[2]!)))] },
      // 500'den fazla harcayan, 3'ten az sipariş veren
      { pattern: new RegExp(String.raw`${B}${amount}\s+(fazla|cok|uzeri|uzerinde|ustu|az|dusuk|alti|altinda)\s+${verb}${E}`, "dg"), build: (m) => [condition(field, trAfter(m[2]!), scale(parseNumber(m[1]!)))] },
      // tam 3 sipariş veren, 3 sipariş veren
      { pattern: new RegExp(String.raw`${B}(?:tam\s+)?${amount}\s+${verb}${E}`, "dg"), build: (m) => [condition(field, "eq", scale(parseNumber(m[1]!)))] },
    );
  }
  if (tr.noun) {
    const noun = tr.noun;
    phrases.push(
      // harcaması 500'den fazla (olan), iade oranı %20'den yüksek
      { pattern: new RegExp(String.raw`${B}${noun}\s+${amount}\s+(fazla|cok|uzeri|uzerinde|ustu|yuksek|buyuk|az|dusuk|alti|altinda|kucuk)(?:\s+olan)?${E}`, "dg"), build: (m) => [condition(field, trAfter(m[2]!) === "lt" || /^kucuk/.test(m[2]!) ? "lt" : "gt", scale(parseNumber(m[1]!)))] },
      { pattern: new RegExp(String.raw`${B}${noun}\s+en\s+(az|fazla|cok)\s+${amount}(?:\s+olan)?${E}`, "dg"), build: (m) => [condition(field, m[1] === "az" ? "gte" : "lte", scale(parseNumber(m[2]!)))] },
      { pattern: new RegExp(String.raw`${B}${noun}\s+${amount}\s+ile\s+${amount}\s+aras[i]n?(?:da)?(?:\s+olan)?${E}`, "dg"), build: (m) => [range(field, scale(parseNumber(m[1]!)), scale(parseNumber(m[2]!)))] },
    );
  }
  return phrases;
}

/** A rate written as 0.2, 20% or %20: rates are stored as fractions. */
const PERCENT = String.raw`(?:%\s*)?${NUM}\s*%?${SUFFIX}`;
const rate = (n: number) => (n > 1 ? n / 100 : n);

const DAYS: Record<string, number> = { day: 1, days: 1, week: 7, weeks: 7, month: 30, months: 30, year: 365, years: 365, gun: 1, hafta: 7, ay: 30, yil: 365 };
const WORD_NUMBERS: Record<string, number> = { a: 1, one: 1, two: 2, three: 3, six: 6, bir: 1, iki: 2, uc: 3, alti: 6 };
const PERIOD_NUMBER = String.raw`(\d+|a|one|two|three|six|bir|iki|uc|alti)?`;
const days = (count: string | undefined, unit: string) => (count ? (WORD_NUMBERS[count] ?? Number(count)) : 1) * DAYS[unit]!;

const label = (name: string) => fold(name).replace(/'/g, "'?");
const LABELS = segmentPrototypes.map((p) => p.label).sort((a, b) => b.length - a.length);
const COUNTRY_KEYS = ["country", "country_code", "ulke"];

const phrases: Phrase[] = [
  // Recency. "not ordered in the last 90 days" first, so the affirmative form cannot claim its tail.
  {
    pattern: new RegExp(String.raw`${B}(?:(?:have|has|did)\s*(?:not|n't)|not|never|no)\s+(?:ordered|bought|purchased|shopped|order(?:ed)?|purchase)(?:\s+anything)?\s+(?:in|for|within)\s+(?:the\s+)?(?:last\s+|past\s+)?${PERIOD_NUMBER}\s*(days?|weeks?|months?|years?)${E}`, "dg"),
    build: (m) => [condition("rfm_recency_days", "gt", days(m[1], m[2]!))],
  },
  {
    pattern: new RegExp(String.raw`${B}(?:inactive|dormant|quiet)\s+(?:for\s+)?(?:more than\s+|over\s+)?${PERIOD_NUMBER}\s*(days?|weeks?|months?|years?)${E}`, "dg"),
    build: (m) => [condition("rfm_recency_days", "gt", days(m[1], m[2]!))],
  },
  {
    pattern: new RegExp(String.raw`${B}last\s+(?:ordered|bought|purchased|order|purchase)\s+(more than|over|less than|under|within)\s+${PERIOD_NUMBER}\s*(days?|weeks?|months?|years?)(?:\s+ago)?${E}`, "dg"),
    build: (m) => [condition("rfm_recency_days", /more|over/.test(m[1]!) ? "gt" : "lte", days(m[2], m[3]!))],
  },
  {
    pattern: new RegExp(String.raw`${B}(?:(?:ordered|bought|purchased|shopped|made a purchase|placed an order)\s+(?:something\s+|anything\s+)?)?(?:in|within|during)\s+(?:the\s+)?(?:last|past)\s+${PERIOD_NUMBER}\s*(days?|weeks?|months?|years?)${E}`, "dg"),
    build: (m) => [condition("rfm_recency_days", "lte", days(m[1], m[2]!))],
  },
  {
    pattern: new RegExp(String.raw`${B}son\s+${PERIOD_NUMBER}\s*(gun|hafta|ay|yil)(?:de|da|te|ta|dir|dur|icinde)?(?:\s+icinde)?\s+(?:hic\s+)?(?:alisveris\s+|siparis\s+)?(yapmayan|vermeyen|almayan|etmeyen|gelmeyen)${E}`, "dg"),
    build: (m) => [condition("rfm_recency_days", "gt", days(m[1], m[2]!))],
  },
  {
    pattern: new RegExp(String.raw`${B}${PERIOD_NUMBER}\s*(gun|hafta|ay|yil)(?:dur|dir|dan|den)?\s+(?:uzun\s+|fazla\s+)?(?:suredir\s+)?(?:alisveris\s+|siparis\s+)?(yapmayan|vermeyen|almayan|etmeyen|gelmeyen)${E}`, "dg"),
    build: (m) => [condition("rfm_recency_days", "gt", days(m[1], m[2]!))],
  },
  {
    pattern: new RegExp(String.raw`${B}son\s+${PERIOD_NUMBER}\s*(gun|hafta|ay|yil)(?:de|da|te|ta|dir|dur|icinde)?(?:\s+icinde)?(?:\s+(?:alisveris|siparis)\s+(?:yapan|veren|yapmis|vermis)|\s+satin\s+alan)?${E}`, "dg"),
    build: (m) => [condition("rfm_recency_days", "lte", days(m[1], m[2]!))],
  },

  ...measure(
    "rfm_monetary",
    { before: String.raw`(?:spent|spend|spending|spends|total spend(?:ing)?|monetary(?: value)?|revenue|lifetime value|ltv)`, after: "(?:in total|total)" },
    { verb: String.raw`(?:harcayan|harcamis|harcama yapan|harcama yapmis)`, noun: String.raw`(?:harcamasi|toplam harcamasi|harcama tutari)` },
  ),
  ...measure(
    "rfm_frequency",
    { before: String.raw`(?:ordered|bought|purchased|shopped|made|placed|with|having|has|have)`, after: String.raw`(?:times?|orders?|purchases?|transactions?)` },
    { verb: String.raw`(?:siparis|alisveris|satin alma|kez|kere|defa)(?:\s+(?:siparis|alisveris))?\s*(?:veren|vermis|yapan|yapmis|alan|almis|eden)?` },
  ),
  { pattern: new RegExp(String.raw`${B}(?:ordered|bought|purchased|shopped)\s+(once|twice)${E}`, "dg"), build: (m) => [condition("rfm_frequency", "eq", m[1] === "once" ? 1 : 2)] },
  ...measure("return_rate", { before: String.raw`(?:return rate|returns rate|return ratio)` }, { noun: String.raw`(?:iade orani)` }, { scale: rate, amount: PERCENT }),
  ...measure("churn_score", { before: String.raw`(?:churn score|churn probability)` }, { noun: String.raw`(?:churn skoru|churn puani|kayip skoru)` }, { scale: rate, amount: PERCENT }),
  ...measure("expected_purchases_90d", { before: String.raw`(?:expected (?:to (?:buy|order|purchase)|purchases|orders))`, after: String.raw`(?:times?|orders?|purchases?)?(?:\s+in the next 90 days)?` }, { noun: String.raw`(?:beklenen (?:siparis|alisveris) sayisi)` }),

  // Churn risk: high churn risk, churn risk is high, churn riski yüksek, yüksek kayıp riskli.
  { pattern: new RegExp(String.raw`${B}(high|medium|low)\s+(?:churn\s+)?risk(?:\s+of\s+churn(?:ing)?)?${E}`, "dg"), build: (m) => [condition("churn_risk", "eq", m[1]!)] },
  { pattern: new RegExp(String.raw`${B}churn\s+risk\s+(?:is\s+|of\s+)?(high|medium|low)${E}`, "dg"), build: (m) => [condition("churn_risk", "eq", m[1]!)] },
  { pattern: new RegExp(String.raw`${B}likely\s+to\s+churn${E}`, "dg"), build: () => [condition("churn_risk", "eq", "high")] },
  { pattern: new RegExp(String.raw`${B}(?:churn|kayip|kaybetme|terk)\s+riski\s+(yuksek|orta|dusuk)(?:\s+olan)?${E}`, "dg"), build: (m) => [condition("churn_risk", "eq", TR_LEVEL[m[1]!]!)] },
  { pattern: new RegExp(String.raw`${B}(yuksek|orta|dusuk)\s+(?:churn|kayip)\s+risk(?:li|i)?${E}`, "dg"), build: (m) => [condition("churn_risk", "eq", TR_LEVEL[m[1]!]!)] },

  // ABC class: category A, class B customers, A sınıfı, C kategorisindeki.
  { pattern: new RegExp(String.raw`${B}(?:abc\s+)?(?:category|class|tier)\s+([abc])${E}`, "dg"), build: (m) => [condition("abc_category", "eq", m[1]!.toUpperCase())] },
  { pattern: new RegExp(String.raw`${B}([abc])[- ](?:category|class|tier)${E}`, "dg"), build: (m) => [condition("abc_category", "eq", m[1]!.toUpperCase())] },
  { pattern: new RegExp(String.raw`${B}([abc])\s+(?:kategori|sinif|grubu?)\w*${E}`, "dg"), build: (m) => [condition("abc_category", "eq", m[1]!.toUpperCase())] },

  // A segment label of the models: in the Champions segment, At Risk customers, Champions segmentindeki.
  {
    pattern: new RegExp(String.raw`${B}(?:in\s+(?:the\s+)?)?(${LABELS.map(label).join("|")})(?:\s+(?:segment|cluster|segmenti\w*|kumesi\w*))?${E}`, "dg"),
    build: (m) => [condition("segment_label", "eq", LABELS.find((l) => new RegExp(`^${label(l)}$`).test(m[1]!))!)],
  },
];

const TR_LEVEL: Record<string, string> = { yuksek: "high", orta: "medium", dusuk: "low" };

/** Phrases over the project's own extra_features keys: "tier is gold", "age over 30", "tier gold olan". */
function extraPhrases(vocabulary: Vocabulary): Phrase[] {
  const keys = vocabulary.extraKeys.filter((k) => EXTRA_KEY.test(k)).sort((a, b) => b.length - a.length);
  if (keys.length === 0) return [];
  const escaped = keys.map((k) => fold(k).replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/[_ ]/g, "[_ ]"));
  const key = `(${escaped.join("|")})`;
  const keyOf = (folded: string) => keys.find((k) => new RegExp(`^${escaped[keys.indexOf(k)]}$`).test(folded))!;
  const VALUE = String.raw`("[^"]{1,100}"|'[^']{1,100}'|[\p{L}\p{N}_.-]{1,100})`;
  const value = (raw: string) => (/^["']/.test(raw) ? raw.slice(1, -1) : /^-?\d+(?:\.\d+)?$/.test(raw) ? Number(raw) : raw);
  return [
    { pattern: new RegExp(String.raw`${B}(?:where\s+|whose\s+)?${key}\s+${EN_CMP_WORDS}\s*${NUM}${E}`, "dgu"), build: (m) => [condition(`extra_features.${keyOf(m[1]!)}`, enCmp(m[2]), parseNumber(m[3]!))] },
    { pattern: new RegExp(String.raw`${B}(?:where\s+|whose\s+|with\s+)?${key}\s+(?:is|=|equals|of)\s+${VALUE}`, "dgu"), build: (m, raw) => [condition(`extra_features.${keyOf(m[1]!)}`, "eq", value(raw(2)))] },
    { pattern: new RegExp(String.raw`${B}${key}'?\w*\s+${VALUE}\s+olan${E}`, "dgu"), build: (m, raw) => [condition(`extra_features.${keyOf(m[1]!)}`, "eq", value(raw(2)))] },
  ];
}

/**
 * Country codes are read from the original text, in capitals, and only where the sentence marks them
 * as places: after in/from/country/ülke, with a Turkish suffix, or before "customers"/"müşteriler"
 * ("in TR", "from TR or DE", "TR'deki", "TR müşterileri"), never right after a number. So "EN AZ" in a
 * prompt typed in capitals, or "250 TL'den", is not a country.
 */
function countryMatches(prompt: string, vocabulary: Vocabulary): Match[] {
  const CODE = String.raw`([A-Z]{2})('[a-zçğıöşü]+)?`;
  const re = new RegExp(String.raw`(?<![\p{L}\d])(?:((?:[Ii]n|[Ff]rom|[Cc]ountry(?:\s+is)?|[Üü]lke(?:si)?)\s+)|(?<!\d\s*))${CODE}((?:\s*(?:,|or|and|veya|ya da|ve)\s*[A-Z]{2}(?![\p{L}\d]))*)('[a-zçğıöşü]+)?(?![\p{L}\d])`, "gu");
  const customersNext = /^\s+(?:customers|clients|buyers|users|shoppers|m[üu][şs]teri)/iu;
  const matches: Match[] = [];
  for (const m of prompt.matchAll(re)) {
    const start = m.index!;
    const end = start + m[0].length;
    if (!m[1] && !m[3] && !m[5] && !customersNext.test(prompt.slice(end))) continue;
    const codes = [...new Set([m[2]!, ...[...(m[4] ?? "").matchAll(/[A-Z]{2}/g)].map((c) => c[0])])];
    const field = COUNTRY_KEYS.find((k) => vocabulary.extraKeys.includes(k));
    if (!field) matches.push({ start, end, reason: `"${m[0].trim()}" names a country, but this project's customers have no country feature` });
    else matches.push({ start, end, rules: [codes.length === 1 ? condition(`extra_features.${field}`, "eq", codes[0]!) : { field: `extra_features.${field}`, op: "in", values: codes }] });
  }
  return matches;
}

// Words that carry no condition in either language: they may be left over without the parser refusing.
const FILLER = new Set(
  (
    "customers customer users user people buyers buyer shoppers clients client who whose that which have has had are is were was and or with the a an of in also all " +
    "show me find list get give segment segments those them please any everyone everybody times time orders order purchases purchase " +
    "musteriler musterileri musteri musterilerin kullanicilar kullanici kisiler alicilar olan olanlar ve veya ile bana goster bul listele tum tumu hepsi da de ki " +
    "segmenti siparis kez kere defa icinde"
  ).split(" "),
);

/** The rule order the copilot answers in, whatever the prompt's word order: the same meaning, the same JSON. */
const FIELD_ORDER = [
  "rfm_recency_days",
  "rfm_frequency",
  "rfm_monetary",
  "return_rate",
  "churn_score",
  "churn_risk",
  "expected_purchases_90d",
  "abc_category",
  "segment_label",
];
const OP_ORDER = ["range", "gt", "gte", "eq", "in", "lte", "lt", "neq", "contains"];

export function canonicalOrder(rules: Condition[]): Condition[] {
  const rank = (field: string) => (FIELD_ORDER.includes(field) ? FIELD_ORDER.indexOf(field) : FIELD_ORDER.length);
  const unique = [...new Map(rules.map((r) => [JSON.stringify(r), r])).values()];
  return unique.sort((a, b) => rank(a.field) - rank(b.field) || a.field.localeCompare(b.field) || OP_ORDER.indexOf(a.op) - OP_ORDER.indexOf(b.op));
}

export function parsePrompt(prompt: string, vocabulary: Vocabulary): ParseOutcome {
  const text = fold(prompt);
  const taken: Match[] = [];
  const free = (start: number, end: number) => taken.every((t) => end <= t.start || start >= t.end);
  for (const match of countryMatches(prompt, vocabulary)) if (free(match.start, match.end)) taken.push(match);
  for (const phrase of [...extraPhrases(vocabulary), ...phrases]) {
    for (const m of text.matchAll(phrase.pattern)) {
      const start = m.index!;
      const end = start + m[0].length;
      if (!free(start, end)) continue;
      const original = (group: number) => prompt.slice(...(m.indices![group] ?? [0, 0]));
      taken.push({ start, end, rules: phrase.build(m as RegExpExecArray, original) });
    }
  }
  taken.sort((a, b) => a.start - b.start);
  // A phrase recognised but unusable here (a country without a country feature) is not understood either.
  const notUnderstood = leftovers(prompt, text, taken.filter((t) => "rules" in t));
  const reasons = taken.flatMap((t) => ("reason" in t ? [t.reason] : []));
  const rules = canonicalOrder(taken.flatMap((t) => ("rules" in t ? t.rules : [])));
  if (notUnderstood.length > 0 || reasons.length > 0 || rules.length === 0) {
    // Nothing recognised and nothing left over (only filler words): the whole prompt was not understood.
    const nothing = rules.length === 0 && notUnderstood.length === 0 && reasons.length === 0;
    return { ok: false, notUnderstood: nothing ? [prompt.trim()] : notUnderstood, reasons };
  }
  return { ok: true, rules };
}

/** The stretches of the prompt no phrase claimed and that are not filler, as the caller wrote them. */
function leftovers(prompt: string, text: string, taken: Match[]): string[] {
  const fragments: string[] = [];
  let fragment: { start: number; end: number } | null = null;
  const flush = () => {
    if (fragment) fragments.push(prompt.slice(fragment.start, fragment.end));
    fragment = null;
  };
  for (const word of text.matchAll(/[\p{L}\p{N}'%$€₺.-]+/gu)) {
    const start = word.index!;
    const end = start + word[0].length;
    if (taken.some((t) => start < t.end && end > t.start)) {
      flush();
      continue;
    }
    const bare = word[0].replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "");
    if (bare === "" || FILLER.has(bare)) continue;
    if (fragment) fragment.end = end;
    else fragment = { start, end };
  }
  flush();
  return fragments;
}
