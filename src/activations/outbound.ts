/**
 * Requests to addresses a tenant wrote (custom webhooks, Slack and Teams webhook URLs) and to the
 * providers' APIs. A tenant's URL must not reach a private network or the cloud's metadata service,
 * so every URL is checked before each request (not only when saved: the policy may have changed):
 * https on the default port, no credentials in the URL, and no host that is or means a loopback,
 * private, link-local, CGNAT, unique-local, multicast, reserved or metadata address. The URL parser
 * (WHATWG) first turns every spelling of an IPv4 address (decimal `2130706433`, octal `0177.0.0.1`,
 * hex `0x7f.1`, short `127.1`, percent-encoded or full-width digits) into dotted decimal and IPv6
 * into its compressed form, so the checks below see one spelling per address.
 *
 * Names are refused when they mean a local host (`localhost`, `*.localhost`, `*.internal`, `*.local`,
 * single-label names such as `metadata`). A public name that points at a refused address
 * (`127.0.0.1.nip.io`, a tenant's own name with an A record to 169.254.169.254) is caught by
 * `checkOutboundTarget`, which resolves the name first (see `checkResolvedHost`).
 */

import { DnsLookupError, resolveHost, type Resolution } from "./doh";

export type UrlPolicy = {
  /** Only these hosts (e.g. Slack's webhook host); any public host when absent. */
  allowedHost?: (hostname: string) => boolean;
  /** Loopback over http or https on any port (OUTBOUND_ALLOW_LOOPBACK: local runs and benchmarks only). */
  allowLoopback?: boolean;
  /**
   * DNS-over-HTTPS endpoint (JSON API, OUTBOUND_DNS_RESOLVER) through which a host name is resolved
   * before each request; every address it resolves to must pass the checks above. Not used for hosts
   * pinned by `allowedHost` (see checkOutboundTarget).
   */
  dnsResolver?: string;
};

export class OutboundUrlError extends Error {}

/** The URL if it may be requested under the policy; otherwise an OutboundUrlError saying why. */
export function checkOutboundUrl(raw: string | URL, policy: UrlPolicy = {}): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundUrlError("not a valid absolute URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new OutboundUrlError("only https URLs are allowed");
  if (url.username || url.password) throw new OutboundUrlError("credentials in the URL are not allowed");
  const host = hostOf(url);
  if (!host) throw new OutboundUrlError("the URL has no host");

  const address = literalAddress(host);
  if (isLoopbackHost(host, address) && policy.allowLoopback) return url;

  if (url.protocol !== "https:") throw new OutboundUrlError("only https URLs are allowed");
  if (url.port !== "") throw new OutboundUrlError("only the default https port is allowed");
  if (address) {
    const reason = blockedAddress(address);
    if (reason) throw new OutboundUrlError(`the address is ${reason}`);
  } else {
    const reason = blockedName(host);
    if (reason) throw new OutboundUrlError(reason);
  }
  if (policy.allowedHost && !policy.allowedHost(host)) throw new OutboundUrlError("this host is not allowed for this channel");
  return url;
}

const hostOf = (url: URL) => url.hostname.toLowerCase().replace(/\.+$/, "");
const literalAddress = (host: string) => (host.startsWith("[") ? parseIpv6(host.slice(1, -1)) : parseIpv4(host));
const isLoopbackHost = (host: string, address: Address | null) => (address ? isLoopback(address) : host === "localhost" || host.endsWith(".localhost"));

/**
 * checkOutboundUrl, then, when the policy names a resolver, where the host name resolves to. IP
 * literals need no lookup (checkOutboundUrl judged the address itself; loopback literals pass only
 * under OUTBOUND_ALLOW_LOOPBACK, which is what lets local runs and the benchmark work offline).
 *
 * Hosts pinned by `allowedHost` (Slack's and Teams' webhook hosts) are not resolved: they are names
 * in zones Slack and Microsoft operate (hooks.slack.com, *.webhook.office.com, *.logic.azure.com,
 * *.environment.api.powerplatform.com), so a tenant cannot choose where they point, and a lookup
 * would only add a resolver outage as a way for their summaries to fail.
 */
export async function checkOutboundTarget(raw: string | URL, policy: UrlPolicy = {}): Promise<URL> {
  const url = checkOutboundUrl(raw, policy);
  const host = hostOf(url);
  if (!policy.dnsResolver || policy.allowedHost || literalAddress(host) || isLoopbackHost(host, null)) return url;
  await checkResolvedHost(host, policy.dnsResolver);
  return url;
}

/**
 * Refuses a host name when any address it resolves to (A and AAAA, through every CNAME on the way)
 * is one checkOutboundUrl would refuse as a literal, or when an alias on the way is a local name.
 * One private address among public ones is enough: the runtime may connect to any of them. When the
 * resolver fails or times out, the request is refused too (fail closed), as a retryable
 * OutboundRequestError rather than an OutboundUrlError, since the URL itself may be fine.
 *
 * This is defence in depth. In production the Worker's fetch leaves from Cloudflare's network, which
 * has no route to our or a tenant's private networks, so a private address would not be reached
 * anyway. Nor does the check close DNS rebinding: the runtime resolves the name again when it
 * connects, and a name with a zero TTL can answer differently between the two lookups.
 */
async function checkResolvedHost(host: string, resolver: string): Promise<void> {
  let resolution: Resolution;
  try {
    resolution = await resolveHost(host, resolver);
  } catch (error) {
    if (error instanceof DnsLookupError) throw new OutboundRequestError(`the host name could not be checked: ${error.message}`);
    throw error;
  }
  for (const alias of resolution.aliases) {
    const reason = blockedName(alias);
    if (reason) throw new OutboundUrlError(`the host name is an alias of ${alias}: ${reason}`);
  }
  if (resolution.addresses.length === 0) throw new OutboundUrlError("the host name does not resolve to an address");
  for (const text of resolution.addresses) {
    const address = text.includes(":") ? parseIpv6(text) : parseIpv4(text);
    const reason = address ? blockedAddress(address) : "not a readable address";
    if (reason) throw new OutboundUrlError(`the host name resolves to an address that is ${reason}`);
  }
}

/** Hosts ending in one of the suffixes (the suffix itself included when it starts without a dot). */
export const hostIn =
  (...patterns: string[]) =>
  (hostname: string) =>
    patterns.some((p) => (p.startsWith(".") ? hostname.endsWith(p) && hostname.length > p.length : hostname === p));

const LOCAL_SUFFIXES = [".localhost", ".internal", ".local", ".localdomain", ".home.arpa", ".arpa", ".onion"];

function blockedName(host: string): string | null {
  if (host === "localhost" || LOCAL_SUFFIXES.some((s) => host.endsWith(s) || host === s.slice(1))) return "the host name means a local or internal host";
  if (!host.includes(".")) return "a single-label host name is not a public host";
  // A name the parser kept that still looks like an address (it would be resolved by the OS resolver's own rules).
  if (/^[0-9a-fx.]+$/i.test(host) && /^[0-9]/.test(host)) return "the host looks like a numeric address";
  return null;
}

type Address = { v: 4; bytes: number[] } | { v: 6; groups: number[] };

function parseIpv4(host: string): Address | null {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return { v: 4, bytes: parts.map(Number) };
}

function parseIpv6(text: string): Address | null {
  let body = text.toLowerCase();
  // An embedded dotted IPv4 tail (::ffff:1.2.3.4): the URL parser serializes it in hex, but accept both.
  const dotted = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(body);
  if (dotted) {
    const v4 = parseIpv4(dotted[1]!);
    if (!v4 || v4.v !== 4) return null;
    const [a, b, c, d] = v4.bytes as [number, number, number, number];
    body = `${body.slice(0, -dotted[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = body.split("::");
  if (halves.length > 2) return null;
  const parse = (s: string) => (s === "" ? [] : s.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const explicit = head.length + rest.length;
  if ([...head, ...rest].some(Number.isNaN)) return null;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return null;
  return { v: 6, groups: [...head, ...new Array<number>(8 - explicit).fill(0), ...rest] };
}

/** The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), if any. */
function embeddedIpv4(groups: number[]): Address | null {
  const v4 = (hi: number, lo: number): Address => ({ v: 4, bytes: [hi >> 8, hi & 255, lo >> 8, lo & 255] });
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  if (zeros(0, 5) && (groups[5] === 0xffff || groups[5] === 0)) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x64 && groups[1] === 0xff9b) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x2002) return v4(groups[1]!, groups[2]!);
  return null;
}

function isLoopback(address: Address): boolean {
  if (address.v === 4) return address.bytes[0] === 127;
  if (address.groups.slice(0, 7).every((g) => g === 0) && address.groups[7] === 1) return true;
  const inner = embeddedIpv4(address.groups);
  return inner !== null && isLoopback(inner);
}

/** [first address bytes, prefix length, what it is] */
const BLOCKED_V4: Array<[number[], number, string]> = [
  [[0, 0, 0, 0], 8, "the unspecified network"],
  [[10, 0, 0, 0], 8, "private"],
  [[100, 64, 0, 0], 10, "shared (CGNAT)"],
  [[127, 0, 0, 0], 8, "loopback"],
  [[169, 254, 0, 0], 16, "link-local (cloud metadata)"],
  [[172, 16, 0, 0], 12, "private"],
  [[192, 0, 0, 0], 24, "reserved for protocol assignments"],
  [[192, 0, 2, 0], 24, "reserved for documentation"],
  [[192, 88, 99, 0], 24, "reserved (6to4 relay)"],
  [[192, 168, 0, 0], 16, "private"],
  [[198, 18, 0, 0], 15, "reserved for benchmarking"],
  [[198, 51, 100, 0], 24, "reserved for documentation"],
  [[203, 0, 113, 0], 24, "reserved for documentation"],
  [[224, 0, 0, 0], 4, "multicast"],
  [[240, 0, 0, 0], 4, "reserved"],
];

function inPrefix(bytes: number[], base: number[], bits: number): boolean {
  for (let i = 0; i < base.length; i++) {
    const take = Math.max(0, Math.min(8, bits - i * 8));
    if (take === 0) return true;
    const mask = (0xff << (8 - take)) & 0xff;
    if ((bytes[i]! & mask) !== (base[i]! & mask)) return false;
  }
  return true;
}

function blockedAddress(address: Address): string | null {
  if (address.v === 4) {
    for (const [base, bits, what] of BLOCKED_V4) if (inPrefix(address.bytes, base, bits)) return what;
    return null;
  }
  if (address.groups.every((g) => g === 0)) return "the unspecified address";
  if (isLoopback(address)) return "loopback";
  const inner = embeddedIpv4(address.groups);
  if (inner) return blockedAddress(inner) ?? (address.groups[0] === 0x2002 ? null : "an IPv4-embedding IPv6 address");
  const bytes = address.groups.flatMap((g) => [g >> 8, g & 255]);
  // Only global unicast (2000::/3) is public; within it, the special-purpose and documentation blocks are not.
  if (!inPrefix(bytes, [0x20], 3)) {
    if (inPrefix(bytes, [0xfc], 7)) return "unique-local";
    if (inPrefix(bytes, [0xfe, 0x80], 10)) return "link-local";
    if (inPrefix(bytes, [0xff], 8)) return "multicast";
    return "not a global unicast address";
  }
  if (inPrefix(bytes, [0x20, 0x01, 0x0d, 0xb8], 32)) return "reserved for documentation";
  if (inPrefix(bytes, [0x20, 0x01, 0x00, 0x00], 23)) return "reserved for special purposes (Teredo and others)";
  return null;
}

export type OutboundResponse = { status: number; headers: Headers; body: string; truncated: boolean };
export class OutboundRequestError extends Error {}

export type OutboundOptions = UrlPolicy & {
  timeoutMs?: number;
  /** The most of the response body that is read; the rest is discarded. */
  maxResponseBytes?: number;
};

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * One request to an outside address: the URL checked (and its host resolved, when the options name
 * a resolver), redirects not followed (a 3xx comes back as
 * is, so a redirect cannot lead past the check), a timeout, and at most `maxResponseBytes` of the
 * body read. Network failures and timeouts throw OutboundRequestError; refused URLs OutboundUrlError.
 * It calls the global `fetch` at request time, which is where tests intercept.
 */
export async function outboundFetch(url: string | URL, init: RequestInit, options: OutboundOptions = {}): Promise<OutboundResponse> {
  const checked = await checkOutboundTarget(url, options);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let response: Response;
  try {
    response = await fetch(checked, { ...init, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const name = (error as Error)?.name;
    if (name === "TimeoutError" || name === "AbortError") throw new OutboundRequestError(`no answer within ${timeoutMs} ms`);
    throw new OutboundRequestError("the request could not be sent (network error)");
  }
  const { body, truncated } = await readCapped(response, options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
  return { status: response.status, headers: response.headers, body, truncated };
}

async function readCapped(response: Response, maxBytes: number) {
  if (!response.body) return { body: "", truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (size + value.byteLength > maxBytes) {
        chunks.push(value.subarray(0, maxBytes - size));
        size = maxBytes;
        truncated = true;
        break;
      }
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    truncated = true;
  } finally {
    if (truncated) await reader.cancel().catch(() => undefined);
    else reader.releaseLock();
  }
  const joined = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { body: new TextDecoder().decode(joined), truncated };
}
