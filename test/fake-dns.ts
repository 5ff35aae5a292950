import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";

/**
 * A DNS-over-HTTPS resolver (JSON API) for tests, answered inside workerd: the Worker resolves every
 * custom webhook's host through OUTBOUND_DNS_RESOLVER (bound to a test address in vitest.config.ts)
 * before a request, and no test may depend on the real DNS.
 */
export const isDnsQuery = (request: Request) => request.url.startsWith(`${env.OUTBOUND_DNS_RESOLVER}?`);

type RecordType = "A" | "AAAA" | "CNAME";
/** name → its records, as [type, data] or [type, data, ttl seconds] */
export type Zone = Record<string, Array<[RecordType, string] | [RecordType, string, number]>>;

const TYPE_CODE: Record<RecordType, number> = { A: 1, CNAME: 5, AAAA: 28 };
const SOA = { name: "example.", type: 6, TTL: 60, data: "ns.example. hostmaster.example. 1 7200 3600 1209600 60" };

/**
 * Answers a query as a recursive resolver would: the CNAME chain from the name, then the chain's end's
 * records of the asked type; NXDOMAIN (with an SOA) for a name the zone does not hold.
 * `fallback` answers names missing from the zone (e.g. every name → a public address).
 */
export function dohAnswer(request: Request, zone: Zone, fallback?: (name: string) => Zone[string]): Response {
  const url = new URL(request.url);
  const name = url.searchParams.get("name")!.toLowerCase().replace(/\.+$/, "");
  const type = url.searchParams.get("type") as RecordType;
  const recordsOf = (n: string) => zone[n] ?? fallback?.(n);
  if (!recordsOf(name)) return Response.json({ Status: 3, Question: [{ name: `${name}.`, type: TYPE_CODE[type] }], Authority: [SOA] });
  const answer: Array<{ name: string; type: number; TTL: number; data: string }> = [];
  let at = name;
  for (let hops = 0; hops < 16; hops++) {
    const records = recordsOf(at) ?? [];
    const cname = records.find(([t]) => t === "CNAME");
    const ofType = records.filter(([t]) => t === type);
    for (const [t, data, ttl = 300] of cname && !ofType.length ? [cname] : ofType) answer.push({ name: `${at}.`, type: TYPE_CODE[t], TTL: ttl, data: t === "CNAME" ? `${data}.` : data });
    if (!cname || ofType.length) break;
    at = cname[1];
  }
  // An answer without records of the type (NODATA) carries the zone's SOA, as real resolvers send it.
  const authority = answer.some((r) => r.type === TYPE_CODE[type]) ? {} : { Authority: [SOA] };
  return Response.json(
    { Status: 0, TC: false, RD: true, RA: true, AD: false, CD: false, Question: [{ name: `${name}.`, type: TYPE_CODE[type] }], Answer: answer, ...authority },
    { headers: { "content-type": "application/dns-json" } },
  );
}

/** What names no test set resolve to: one public address (example.com's), so webhooks can be created. */
export const publicAddress = (): Zone[string] => [["A", "93.184.215.14"]];

/** The fake resolver's answer when `request` is a DNS query (every name public), else undefined: for tests' fetch interceptors. */
export const publicDnsAnswer = (request: Request) => (isDnsQuery(request) ? dohAnswer(request, {}, publicAddress) : undefined);

/** A fresh host name per test: the Worker caches answers per isolate for their TTL. */
export const uniqueHost = (label: string) => `${label}-${crypto.randomUUID().slice(0, 8)}.example.net`;

/**
 * Intercepts the Worker's fetch: DNS queries are answered from `zone` (a test may change it to repoint
 * a name) and recorded as "name type"; any other request is recorded and answered 200 "ok".
 */
export function fakeNetwork(zone: Zone) {
  const questions: string[] = [];
  const sent: Request[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    if (!isDnsQuery(request)) {
      sent.push(request);
      return new Response("ok");
    }
    expect(request.headers.get("accept")).toBe("application/dns-json");
    const url = new URL(request.url);
    questions.push(`${url.searchParams.get("name")} ${url.searchParams.get("type")}`);
    return dohAnswer(request, zone);
  });
  return { questions, sent };
}
