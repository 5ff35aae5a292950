import { bodyLimit as honoBodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";

/** Default cap on request bodies; routes that take files or batches name their own below. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;

/** Larger limits by path: the one place a route asks for more. */
const largerLimits: ReadonlyArray<[path: RegExp, bytes: number]> = [
  // 10,000 records of a few hundred bytes each.
  [/^\/api\/v1\/ingest\/?$/, 10 * 1024 * 1024],
  // CSV/XLSX uploads; larger files belong in several uploads or API batches.
  [/^\/api\/engine\/projects\/[^/]+\/files\/?$/, 50 * 1024 * 1024],
  // Stripe events carry whole objects (an invoice with its lines).
  [/^\/api\/webhooks\/stripe\/?$/, 1024 * 1024],
];

const ACCEPTED_MEDIA_TYPES = ["application/json", "multipart/form-data"];

export function bodyLimitFor(path: string): number {
  return largerLimits.find(([pattern]) => pattern.test(path))?.[1] ?? DEFAULT_BODY_LIMIT_BYTES;
}

/**
 * Refuses oversized bodies (413, by Content-Length or while streaming) and bodies in a media type no
 * route accepts (415), before any handler reads them.
 */
export function requestBody() {
  return createMiddleware<AppEnv>(async function requestBody(c, next) {
    if (!["POST", "PUT", "PATCH", "DELETE"].includes(c.req.method)) return next();
    const hasBody = c.req.header("Content-Length") !== undefined
      ? Number(c.req.header("Content-Length")) > 0
      : c.req.raw.body !== null;
    if (hasBody) {
      const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
      if (!ACCEPTED_MEDIA_TYPES.includes(mediaType)) {
        throw new ApiError("unsupported_media_type", undefined, { expected: "application/json" });
      }
    }
    const maxSize = bodyLimitFor(c.req.path);
    return honoBodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError("payload_too_large", { limit: maxSize }, { limit: maxSize });
      },
    })(c, next);
  });
}
