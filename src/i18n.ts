import { z } from "@hono/zod-openapi";
import type { ErrorCode, FieldError } from "./errors";

export const locales = ["en", "tr"] as const;
export type Locale = (typeof locales)[number];

type Messages = Record<ErrorCode, string>;

const en: Messages = {
  validation_error: "Validation failed",
  invalid_json: "Malformed JSON in request body",
  invalid_query: "The query was refused: {reason}",
  invalid_signature: "The Stripe-Signature header does not match the body, or is older than 5 minutes",
  unauthorized: "Authentication required",
  invalid_credentials: "Invalid email or password",
  invalid_api_key: "Invalid API key",
  api_key_expired: "API key has expired",
  session_expired: "Session is invalid or has expired",
  forbidden: "Forbidden",
  session_required: "This endpoint requires a user session; API keys cannot call it",
  project_mismatch: "Forbidden: API key does not belong to this project",
  insufficient_role: "Your role in this organization does not allow this action",
  not_found: "Not found",
  route_not_found: "No route matches {method} {path}",
  method_not_allowed: "Method {method} is not allowed on {path}",
  conflict: "Conflict",
  email_taken: "An account with this email already exists",
  slug_taken: "An organization with this slug already exists",
  already_member: "This user is already a member of the organization",
  last_owner: "The last owner of an organization cannot be removed or demoted",
  contact_sales: "The {plan} plan is sold by our team: write to us through POST /api/contact",
  already_subscribed: "The organization is already on the {plan} plan",
  nothing_to_cancel: "There is no paid subscription to cancel",
  duplicate_file: "This project already has a file with the same content ({filename}, {fileId}); upload with force=true to store it again",
  payload_too_large: "Request body exceeds the limit of {limit} bytes",
  unsupported_media_type: "Unsupported content type; expected {expected}",
  integration_test_failed: "Integration test failed",
  project_too_large: "The project is too large for this analysis",
  result_too_large: "The answer would be too large; narrow it with filters, a coarser interval or another group_by",
  copilot_failed: "The copilot could not turn the prompt into segment rules; not understood: {reason}",
  rate_limited: "Too many requests; retry after {retryAfter} seconds",
  quota_exceeded: "Plan quota exceeded",
  internal_error: "Internal server error",
  service_unavailable: "A dependency is unavailable; retry later",
  billing_unavailable: "Billing is not available: {reason}",
};

const tr: Messages = {
  validation_error: "Doğrulama başarısız",
  invalid_json: "İstek gövdesinde bozuk JSON",
  invalid_query: "Sorgu reddedildi: {reason}",
  invalid_signature: "Stripe-Signature başlığı gövdeyle eşleşmiyor veya 5 dakikadan eski",
  unauthorized: "Kimlik doğrulaması gerekli",
  invalid_credentials: "E-posta veya parola hatalı",
  invalid_api_key: "Geçersiz API anahtarı",
  api_key_expired: "API anahtarının süresi dolmuş",
  session_expired: "Oturum geçersiz veya süresi dolmuş",
  forbidden: "Erişim engellendi",
  session_required: "Bu uç nokta bir kullanıcı oturumu gerektirir; API anahtarları çağıramaz",
  project_mismatch: "Erişim engellendi: API anahtarı bu projeye ait değil",
  insufficient_role: "Bu organizasyondaki rolünüz bu işleme izin vermiyor",
  not_found: "Bulunamadı",
  route_not_found: "{method} {path} ile eşleşen bir yol yok",
  method_not_allowed: "{path} üzerinde {method} yöntemine izin verilmiyor",
  conflict: "Çakışma",
  email_taken: "Bu e-posta ile bir hesap zaten var",
  slug_taken: "Bu kısa adla bir organizasyon zaten var",
  already_member: "Bu kullanıcı zaten organizasyonun üyesi",
  last_owner: "Bir organizasyonun son sahibi çıkarılamaz veya rolü düşürülemez",
  contact_sales: "{plan} planı ekibimiz tarafından satılır: POST /api/contact üzerinden bize yazın",
  already_subscribed: "Organizasyon zaten {plan} planında",
  nothing_to_cancel: "İptal edilecek ücretli bir abonelik yok",
  duplicate_file: "Bu projede aynı içerikte bir dosya zaten var ({filename}, {fileId}); yeniden saklamak için force=true ile yükleyin",
  payload_too_large: "İstek gövdesi {limit} bayt sınırını aşıyor",
  unsupported_media_type: "Desteklenmeyen içerik türü; beklenen {expected}",
  integration_test_failed: "Entegrasyon testi başarısız",
  project_too_large: "Proje bu analiz için çok büyük",
  result_too_large: "Yanıt çok büyük olurdu; filtrelerle, daha kaba bir aralıkla veya başka bir group_by ile daraltın",
  copilot_failed: "Asistan istemi segment kurallarına çeviremedi; anlaşılamayan: {reason}",
  rate_limited: "Çok fazla istek; {retryAfter} saniye sonra tekrar deneyin",
  quota_exceeded: "Plan kotası aşıldı",
  internal_error: "Sunucu hatası",
  service_unavailable: "Bir bağımlılık kullanılamıyor; daha sonra tekrar deneyin",
  billing_unavailable: "Faturalandırma kullanılamıyor: {reason}",
};

const messages: Record<Locale, Messages> = { en, tr };
const zodLocales = { en: z.locales.en(), tr: z.locales.tr() } as const;

/** The best supported locale for an Accept-Language header (quality values honoured). */
export function negotiateLocale(acceptLanguage: string | null | undefined): Locale {
  if (!acceptLanguage) return "en";
  const ranked = acceptLanguage
    .split(",")
    .map((part, index) => {
      const [tag = "", ...params] = part.trim().split(";");
      const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
      const quality = q ? Number(q.slice(2)) : 1;
      return { lang: tag.toLowerCase().split("-")[0] ?? "", quality: Number.isFinite(quality) ? quality : 0, index };
    })
    .filter((entry) => entry.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.index - b.index);
  for (const { lang } of ranked) {
    if ((locales as readonly string[]).includes(lang)) return lang as Locale;
  }
  return "en";
}

export function translate(locale: Locale, code: ErrorCode, params: Record<string, string | number> = {}): string {
  return messages[locale][code].replace(/\{(\w+)\}/g, (_, key: string) => String(params[key] ?? `{${key}}`));
}

/**
 * Field errors of a failed zod parse, their messages in the caller's language. `input` is what was
 * parsed: zod keeps no input on its issues, and a translated "expected X, received Y" needs it.
 * A value of the wrong type gets that one error: zod also runs the field's checks on it (an array
 * for a string with min(8) gives "expected array to have >=8 items"), which would only confuse.
 */
export function fieldErrors(locale: Locale, issues: readonly z.core.$ZodIssue[], input?: unknown): FieldError[] {
  const wrongType = new Set(issues.filter((issue) => issue.code === "invalid_type").map((issue) => pathKey(issue.path)));
  return issues
    .filter((issue) => issue.code === "invalid_type" || !wrongType.has(pathKey(issue.path)))
    .map((issue) => ({
      path: issue.path.map(String).join("."),
      code: issue.code,
      message: locale === "en" ? issue.message : (localizedIssue(locale, issue, input) ?? issue.message),
    }));
}

const pathKey = (path: readonly PropertyKey[]) => JSON.stringify(path.map(String));

function localizedIssue(locale: Locale, issue: z.core.$ZodIssue, input: unknown): string | undefined {
  // Custom refinements carry our own English message; only zod's built-in ones have translations.
  if (issue.code === "custom") return undefined;
  const withInput = "input" in issue ? issue : { ...issue, input: valueAt(input, issue.path) };
  const localized = zodLocales[locale].localeError(withInput as never);
  return typeof localized === "string" ? localized : localized?.message;
}

/** The value at a zod issue's path in the parsed input (undefined where there is none). */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key as string];
  }
  return value;
}
