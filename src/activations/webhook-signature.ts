import { timingSafeEqual, toHex } from "../lib/crypto";

/**
 * How a custom webhook receiver checks that a request came from us, unaltered and recently:
 * `Segmento-Signature: v1=<hex HMAC-SHA256 of "<Segmento-Timestamp>.<raw body>" under the signing
 * secret>`, with `Segmento-Timestamp` in Unix seconds. A receiver recomputes the HMAC over the raw
 * body, compares in constant time, and refuses timestamps more than 5 minutes old.
 * `Idempotency-Key` is the same on every retry of one delivery, so a receiver can drop repeats.
 */
export const SIGNATURE_HEADER = "Segmento-Signature";
export const TIMESTAMP_HEADER = "Segmento-Timestamp";
export const IDEMPOTENCY_HEADER = "Idempotency-Key";
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();

async function hmacHex(secret: string, message: string) {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return toHex(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

export async function webhookSignature(secret: string, timestamp: number, body: string) {
  return `v1=${await hmacHex(secret, `${timestamp}.${body}`)}`;
}

/** What a receiver does (also used by our tests and the benchmark's receiver). */
export async function verifyWebhookSignature(secret: string, headers: Headers, body: string, nowSeconds = Math.floor(Date.now() / 1000)) {
  const timestamp = Number(headers.get(TIMESTAMP_HEADER));
  const given = headers.get(SIGNATURE_HEADER) ?? "";
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > SIGNATURE_TOLERANCE_SECONDS) return false;
  const expected = await webhookSignature(secret, timestamp, body);
  return given.length === expected.length && timingSafeEqual(encoder.encode(given), encoder.encode(expected));
}
