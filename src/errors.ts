import { z } from "@hono/zod-openapi";

/**
 * Every failure the API can answer with, and its HTTP status. The code is the stable, machine-readable
 * part of the error body; the human message comes from i18n and may change.
 */
export const errorStatus = {
  validation_error: 400,
  invalid_json: 400,
  invalid_query: 400,
  invalid_signature: 400,
  unauthorized: 401,
  invalid_credentials: 401,
  invalid_api_key: 401,
  api_key_expired: 401,
  session_expired: 401,
  forbidden: 403,
  session_required: 403,
  project_mismatch: 403,
  insufficient_role: 403,
  not_found: 404,
  route_not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  email_taken: 409,
  slug_taken: 409,
  already_member: 409,
  last_owner: 409,
  contact_sales: 409,
  already_subscribed: 409,
  nothing_to_cancel: 409,
  duplicate_file: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  integration_test_failed: 422,
  project_too_large: 422,
  result_too_large: 422,
  copilot_failed: 422,
  rate_limited: 429,
  quota_exceeded: 429,
  internal_error: 500,
  service_unavailable: 503,
  billing_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;
export type ErrorStatus = (typeof errorStatus)[ErrorCode];

export type FieldError = { path: string; message: string; code: string };

/** A 400 `validation_error` about one field: the one way to refuse a value zod could not check. */
export function invalidField(path: string, code: string, message: string): ApiError {
  return new ApiError("validation_error", [{ path, code, message }]);
}

/** A failure a handler or middleware raises on purpose; app.onError renders it. */
export class ApiError extends Error {
  readonly status: ErrorStatus;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: unknown,
    /** values interpolated into the localized message */
    readonly params: Record<string, string | number> = {},
  ) {
    super(code);
    this.status = errorStatus[code];
  }
}

export const ErrorBody = z
  .object({
    error: z.string().openapi({ example: "Not found" }),
    code: z.enum(Object.keys(errorStatus) as [ErrorCode, ...ErrorCode[]]).openapi({ example: "not_found" }),
    detail: z.unknown().optional().openapi({ description: "Field errors for validation failures; other context otherwise." }),
  })
  .openapi("Error");

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorBody } },
});

/** Responses every route may give; spread into each route definition's `responses`. */
export const commonErrorResponses = {
  400: errorResponse("Validation failed or malformed JSON (`validation_error`, `invalid_json`)"),
  413: errorResponse("Request body too large (`payload_too_large`)"),
  429: errorResponse("Rate limit exceeded (`rate_limited`); see `Retry-After`"),
  500: errorResponse("Internal error (`internal_error`)"),
} as const;

/** Responses of routes behind authentication. */
export const authErrorResponses = {
  ...commonErrorResponses,
  401: errorResponse("Missing, invalid or expired credential"),
  403: errorResponse("Credential not allowed here (`forbidden`, `project_mismatch`, `insufficient_role`, `session_required`)"),
  404: errorResponse("No such resource, or it belongs to another tenant (`not_found`)"),
} as const;

export { errorResponse };
