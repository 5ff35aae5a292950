/**
 * Host name lookups over DNS-over-HTTPS, JSON API (the schema Cloudflare's 1.1.1.1 and Google's
 * resolvers serve: `GET <resolver>?name=…&type=A` with `accept: application/dns-json`). Workers have
 * no DNS API of their own, and this is what the outbound guard needs: every address a name leads to.
 *
 * Answers are cached per isolate for their TTL (at most MAX_TTL_SECONDS, at most MAX_ENTRIES names),
 * so a run delivering many chunks to one webhook asks the resolver once. Failures are not cached.
 */

export class DnsLookupError extends Error {}

/** What a name leads to: its addresses (A and AAAA), and the names its CNAME chain passes through. */
export type Resolution = { addresses: string[]; aliases: string[] };

const TIMEOUT_MS = 5_000;
const MAX_CNAME_HOPS = 8;
const MAX_TTL_SECONDS = 3_600;
const MAX_ENTRIES = 1_000;

const TYPE = { A: 1, CNAME: 5, AAAA: 28 } as const;
const NOERROR = 0;
const NXDOMAIN = 3;

type DnsRecord = { name: string; type: number; TTL: number; data: string };
type Lookup = { addresses: string[]; aliases: string[]; ttlSeconds: number };

const cache = new Map<string, { resolution: Resolution; expiresAt: number }>();

/** Every A and AAAA address `name` leads to; an unknown name (NXDOMAIN) or one without addresses has none. */
export async function resolveHost(name: string, resolver: string): Promise<Resolution> {
  const key = `${resolver} ${canonical(name)}`;
  const cached = cache.get(key);
  if (cached && cached.expiresAt > Date.now()) return cached.resolution;
  const [v4, v6] = await Promise.all([lookup(canonical(name), "A", resolver), lookup(canonical(name), "AAAA", resolver)]);
  const resolution = { addresses: [...v4.addresses, ...v6.addresses], aliases: [...new Set([...v4.aliases, ...v6.aliases])] };
  remember(key, resolution, Math.min(v4.ttlSeconds, v6.ttlSeconds, MAX_TTL_SECONDS));
  return resolution;
}

function remember(key: string, resolution: Resolution, ttlSeconds: number) {
  if (ttlSeconds <= 0) return;
  cache.delete(key);
  if (cache.size >= MAX_ENTRIES) {
    const now = Date.now();
    for (const [k, entry] of cache) if (entry.expiresAt <= now) cache.delete(k);
    // Still full: drop the oldest entries (a Map iterates in insertion order).
    for (const k of cache.keys()) {
      if (cache.size < MAX_ENTRIES) break;
      cache.delete(k);
    }
  }
  cache.set(key, { resolution, expiresAt: Date.now() + ttlSeconds * 1000 });
}

/**
 * One question, following the CNAME chain the answer holds. A recursive resolver answers an A question
 * for an alias with the CNAME records and the target's addresses, or with the SOA of the target's zone
 * when it has none (NODATA); an answer that stops at an alias without either is finished by asking
 * about the chain's last name. Every address record of every answer is kept, not only those on the
 * chain, so nothing an answer carries escapes the check.
 */
async function lookup(name: string, type: "A" | "AAAA", resolver: string, hops = 0): Promise<Lookup> {
  const answer = await query(name, type, resolver);
  const wanted = TYPE[type];
  const records = answer.records;
  const addresses = records.filter((r) => r.type === wanted).map((r) => r.data.trim());
  const aliases: string[] = [];
  let target = name;
  for (;;) {
    const alias = records.find((r) => r.type === TYPE.CNAME && canonical(r.name) === target);
    if (!alias) break;
    target = canonical(alias.data);
    if (aliases.includes(target) || target === name || ++hops > MAX_CNAME_HOPS) throw new DnsLookupError("the name's CNAME chain loops or is too long");
    aliases.push(target);
  }
  const ttlSeconds = Math.min(answer.ttlSeconds, ...records.map((r) => r.TTL));
  const chainEnded = answer.nodata || records.some((r) => r.type === wanted && canonical(r.name) === target);
  if (target === name || chainEnded) return { addresses, aliases, ttlSeconds };
  const next = await lookup(target, type, resolver, hops);
  return { addresses: [...addresses, ...next.addresses], aliases: [...aliases, ...next.aliases], ttlSeconds: Math.min(ttlSeconds, next.ttlSeconds) };
}

/** The answer's records (none for NXDOMAIN), how long it may be cached, and whether it says the name has no such records. */
async function query(name: string, type: "A" | "AAAA", resolver: string): Promise<{ records: DnsRecord[]; ttlSeconds: number; nodata: boolean }> {
  const url = new URL(resolver);
  url.searchParams.set("name", name);
  url.searchParams.set("type", type);
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: "application/dns-json" }, redirect: "manual", signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    const timedOut = (error as Error)?.name === "TimeoutError" || (error as Error)?.name === "AbortError";
    throw new DnsLookupError(timedOut ? `the DNS resolver did not answer within ${TIMEOUT_MS} ms` : "the DNS resolver could not be reached");
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new DnsLookupError(`the DNS resolver answered HTTP ${response.status}`);
  }
  let body: { Status?: unknown; Answer?: unknown; Authority?: unknown };
  try {
    body = await response.json();
  } catch {
    throw new DnsLookupError("the DNS resolver's answer is not JSON");
  }
  const records = [body.Answer ?? [], body.Authority ?? []].map(readRecords);
  if (!records[0] || !records[1]) throw new DnsLookupError("the DNS resolver's answer is malformed");
  // A negative answer is cached for its SOA's TTL (the Authority section), as resolvers do.
  const negativeTtl = records[1].length ? Math.min(MAX_TTL_SECONDS, ...records[1].map((r) => r.TTL)) : 0;
  if (body.Status === NXDOMAIN) return { records: [], ttlSeconds: negativeTtl, nodata: true };
  if (body.Status !== NOERROR) throw new DnsLookupError(`the DNS resolver could not resolve the name (DNS status ${String(body.Status)})`);
  return { records: records[0], ttlSeconds: records[0].length ? MAX_TTL_SECONDS : negativeTtl, nodata: records[1].length > 0 };
}

function readRecords(value: unknown): DnsRecord[] | null {
  if (!Array.isArray(value)) return null;
  const valid = value.every(
    (r) => typeof r === "object" && r !== null && typeof r.name === "string" && Number.isInteger(r.type) && Number.isFinite(r.TTL) && typeof r.data === "string",
  );
  return valid ? (value as DnsRecord[]) : null;
}

const canonical = (name: string) => name.toLowerCase().replace(/\.+$/, "");
