import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { checkOutboundTarget, outboundFetch, OutboundRequestError, OutboundUrlError } from "../../src/activations/outbound";
import { slackHosts } from "../../src/activations/channels/slack";
import { dohAnswer, fakeNetwork, uniqueHost, type Zone } from "../fake-dns";

const resolver = env.OUTBOUND_DNS_RESOLVER!;
afterEach(() => vi.restoreAllMocks());

/** The DNS questions the Worker asks ("name type"), answered from `zone`. */
const resolverWith = (zone: Zone) => fakeNetwork(zone).questions;

const check = (host: string) => checkOutboundTarget(`https://${host}/hook`, { dnsResolver: resolver });

describe("host names that resolve to refused addresses", () => {
  const v4: Array<[string, string]> = [
    ["127.0.0.1", "loopback"],
    ["10.0.0.5", "private"],
    ["172.20.1.1", "private"],
    ["192.168.1.10", "private"],
    ["169.254.169.254", "link-local (cloud metadata)"],
    ["100.64.0.1", "shared (CGNAT)"],
    ["0.0.0.0", "the unspecified network"],
    ["224.0.0.1", "multicast"],
    ["240.0.0.1", "reserved"],
    ["198.18.0.1", "reserved for benchmarking"],
    ["192.0.2.1", "reserved for documentation"],
  ];
  it.each(v4)("refuses a name whose A record is %s", async (address, what) => {
    const host = uniqueHost("a");
    resolverWith({ [host]: [["A", address]] });
    await expect(check(host)).rejects.toThrow(new OutboundUrlError(`the host name resolves to an address that is ${what}`));
  });

  const v6: Array<[string, string]> = [
    ["::1", "loopback"],
    ["::", "the unspecified address"],
    ["fc00::1", "unique-local"],
    ["fd12:3456:789a::1", "unique-local"],
    ["fe80::1", "link-local"],
    ["ff02::1", "multicast"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:a9fe:a9fe", "link-local (cloud metadata)"],
    ["64:ff9b::7f00:1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["2002:c0a8:101::1", "private"],
    ["2001:db8::1", "reserved for documentation"],
  ];
  it.each(v6)("refuses a name whose AAAA record is %s", async (address, what) => {
    const host = uniqueHost("aaaa");
    resolverWith({ [host]: [["A", "93.184.215.14"], ["AAAA", address]] });
    await expect(check(host)).rejects.toThrow(new OutboundUrlError(`the host name resolves to an address that is ${what}`));
  });

  it.each([
    ["127.0.0.1", "A", "loopback"],
    ["169.254.169.254", "A", "link-local (cloud metadata)"],
    ["10.0.0.5", "A", "private"],
    ["fc00::5", "AAAA", "unique-local"],
    ["::ffff:192.168.0.1", "AAAA", "private"],
  ] as const)("refuses a name whose CNAME chain ends at %s (%s)", async (address, type, what) => {
    const host = uniqueHost("alias");
    const middle = uniqueHost("middle");
    const end = uniqueHost("end");
    const questions = resolverWith({ [host]: [["CNAME", middle]], [middle]: [["CNAME", end]], [end]: [[type, address]] });
    await expect(check(host)).rejects.toThrow(new OutboundUrlError(`the host name resolves to an address that is ${what}`));
    // The resolver followed the chain itself: one question per type.
    expect(questions.sort()).toEqual([`${host} A`, `${host} AAAA`]);
  });

  it("follows a chain the answer leaves unfinished by asking about its last name", async () => {
    const host = uniqueHost("alias");
    const end = uniqueHost("end");
    const questions: string[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = new URL(new Request(input as RequestInfo, init).url);
      const [name, type] = [url.searchParams.get("name"), url.searchParams.get("type")];
      questions.push(`${name} ${type}`);
      // A resolver that answers an alias with its CNAME record only.
      const answer = name === host ? [{ name: `${host}.`, type: 5, TTL: 60, data: `${end}.` }] : type === "A" ? [{ name: `${end}.`, type: 1, TTL: 60, data: "10.1.2.3" }] : [];
      return Response.json({ Status: 0, Answer: answer });
    });
    await expect(check(host)).rejects.toThrow(new OutboundUrlError("the host name resolves to an address that is private"));
    expect(questions.sort()).toEqual([`${end} A`, `${end} AAAA`, `${host} A`, `${host} AAAA`].sort());
  });

  it("fails closed on a CNAME loop", async () => {
    const a = uniqueHost("loop-a");
    const b = uniqueHost("loop-b");
    resolverWith({ [a]: [["CNAME", b]], [b]: [["CNAME", a]] });
    await expect(check(a)).rejects.toThrow(new OutboundRequestError("the host name could not be checked: the name's CNAME chain loops or is too long"));
  });

  it("refuses a name that is an alias of a local name", async () => {
    const host = uniqueHost("alias");
    resolverWith({ [host]: [["CNAME", "metadata.google.internal"]], "metadata.google.internal": [["A", "93.184.215.14"]] });
    await expect(check(host)).rejects.toThrow(/alias of metadata\.google\.internal: the host name means a local or internal host/);
  });

  it("refuses when one address among public ones is private", async () => {
    const host = uniqueHost("mixed");
    resolverWith({ [host]: [["A", "93.184.215.14"], ["A", "10.0.0.5"], ["A", "1.1.1.1"], ["AAAA", "2606:4700::1111"]] });
    await expect(check(host)).rejects.toThrow(new OutboundUrlError("the host name resolves to an address that is private"));
  });

  it("passes a name whose every address is public, and then sends the request", async () => {
    const host = uniqueHost("public");
    const questions = resolverWith({ [host]: [["A", "93.184.215.14"], ["AAAA", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]] });
    const answer = await outboundFetch(`https://${host}/hook`, { method: "POST" }, { dnsResolver: resolver });
    expect(answer).toMatchObject({ status: 200, body: "ok" });
    expect(questions.sort()).toEqual([`${host} A`, `${host} AAAA`]);
  });

  it("refuses before sending: the receiver never sees the request", async () => {
    const host = uniqueHost("private");
    const { sent } = fakeNetwork({ [host]: [["A", "192.168.0.1"]] });
    await expect(outboundFetch(`https://${host}/hook`, { method: "POST" }, { dnsResolver: resolver })).rejects.toThrow(OutboundUrlError);
    expect(sent).toEqual([]);
  });

  it("refuses an unknown name (NXDOMAIN) and a name without addresses", async () => {
    resolverWith({});
    await expect(check(uniqueHost("nx"))).rejects.toThrow(new OutboundUrlError("the host name does not resolve to an address"));
    const empty = uniqueHost("empty");
    resolverWith({ [empty]: [["CNAME", uniqueHost("nowhere")]] });
    await expect(check(empty)).rejects.toThrow(new OutboundUrlError("the host name does not resolve to an address"));
  });

  it("fails closed, retryably, when the resolver errors, times out or answers nonsense", async () => {
    const failures: Array<[() => Promise<Response>, RegExp]> = [
      [async () => new Response("busy", { status: 503 }), /could not be checked: the DNS resolver answered HTTP 503/],
      [async () => Response.json({ Status: 2, Answer: [] }), /could not be checked: the DNS resolver could not resolve the name \(DNS status 2\)/],
      [async () => new Response("<html>"), /could not be checked: the DNS resolver's answer is not JSON/],
      [async () => Response.json({ Status: 0, Answer: [{ name: "x." }] }), /could not be checked: the DNS resolver's answer is malformed/],
      [async () => Promise.reject(new TypeError("fetch failed")), /could not be checked: the DNS resolver could not be reached/],
      [async () => Promise.reject(new DOMException("timed out", "TimeoutError")), /could not be checked: the DNS resolver did not answer within 5000 ms/],
    ];
    for (const [answer, message] of failures) {
      vi.spyOn(globalThis, "fetch").mockImplementation(answer);
      const error = await check(uniqueHost("down")).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OutboundRequestError);
      expect((error as Error).message).toMatch(message);
      vi.restoreAllMocks();
    }
  });

  it("refuses an answer whose address cannot be read", async () => {
    const host = uniqueHost("garbled");
    resolverWith({ [host]: [["A", "not-an-address"]] });
    await expect(check(host)).rejects.toThrow(new OutboundUrlError("the host name resolves to an address that is not a readable address"));
  });

  it("does not resolve IP literals (loopback under OUTBOUND_ALLOW_LOOPBACK) or the providers' pinned hosts", async () => {
    const questions = resolverWith({});
    await checkOutboundTarget("http://127.0.0.1:8787/hook", { dnsResolver: resolver, allowLoopback: true });
    await checkOutboundTarget("https://93.184.215.14/hook", { dnsResolver: resolver });
    await checkOutboundTarget("https://hooks.slack.com/services/T0/B0/x", { dnsResolver: resolver, allowedHost: slackHosts });
    expect(questions).toEqual([]);
    // Without a resolver in the policy (providers' own API hosts), nothing is resolved either.
    await checkOutboundTarget(`https://${uniqueHost("api")}/v3`);
    expect(questions).toEqual([]);
  });
});

describe("the resolver's answers are cached", () => {
  it("for their TTL: a second check asks nothing, one after the TTL asks again", async () => {
    const host = uniqueHost("cached");
    const questions = resolverWith({ [host]: [["A", "93.184.215.14", 120], ["AAAA", "2606:4700::1111", 300]] });
    await check(host);
    await check(host);
    expect(questions.length).toBe(2);
    const now = Date.now();
    vi.spyOn(Date, "now").mockReturnValue(now + 121_000);
    await check(host);
    expect(questions.length).toBe(4);
  });

  it("keeps a refusal for its TTL too, and never caches a zero TTL or a resolver failure", async () => {
    const refused = uniqueHost("refused");
    const zero = uniqueHost("zero");
    const questions = resolverWith({ [refused]: [["A", "10.0.0.1", 60]], [zero]: [["A", "93.184.215.14", 0]] });
    await expect(check(refused)).rejects.toThrow(OutboundUrlError);
    await expect(check(refused)).rejects.toThrow(OutboundUrlError);
    expect(questions.filter((q) => q.startsWith(refused)).length).toBe(2);
    await check(zero);
    await check(zero);
    expect(questions.filter((q) => q.startsWith(zero)).length).toBe(4);

    const flaky = uniqueHost("flaky");
    vi.restoreAllMocks();
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("down", { status: 502 }));
    await expect(check(flaky)).rejects.toThrow(OutboundRequestError);
    vi.restoreAllMocks();
    resolverWith({ [flaky]: [["A", "93.184.215.14"]] });
    await expect(check(flaky)).resolves.toBeInstanceOf(URL);
  });

  it("is bounded: old names are dropped once the cache is full", async () => {
    const first = uniqueHost("first");
    const questions = resolverWith({ [first]: [["A", "93.184.215.14"]] });
    await check(first);
    vi.restoreAllMocks();
    // 1,000 more names fill the cache past its bound.
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => dohAnswer(new Request(input as RequestInfo, init), {}, () => [["A", "93.184.215.14"]]));
    for (let i = 0; i < 1000; i++) await check(`n${i}-${first}`);
    vi.restoreAllMocks();
    const again = resolverWith({ [first]: [["A", "93.184.215.14"]] });
    await check(first);
    expect(questions.length).toBe(2);
    expect(again.length).toBe(2);
  });
});
