import { bodyLimit as honoBodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";

/** Default cap on request bodies; routes that take files or batches name their own below. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;

/** Larger limits by path prefix: the one place a route asks for more. */
const largerLimits: ReadonlyArray<[prefix: string, bytes: number]> = [];

const ACCEPTED_MEDIA_TYPES = ["application/json", "multipart/form-data"];

export function bodyLimitFor(path: string): number {
  return largerLimits.find(([prefix]) => path.startsWith(prefix))?.[1] ?? DEFAULT_BODY_LIMIT_BYTES;
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
