import { afterEach, describe, expect, it, vi } from "vitest";
import { checkOutboundUrl, hostIn, outboundFetch, OutboundRequestError, OutboundUrlError } from "../../src/activations/outbound";

const refused = (url: string, policy = {}) => {
  expect(() => checkOutboundUrl(url, policy), url).toThrow(OutboundUrlError);
};

describe("the outbound URL guard", () => {
  it("allows public https hosts and addresses on the default port", () => {
    expect(checkOutboundUrl("https://hooks.example.com/segmento?x=1").hostname).toBe("hooks.example.com");
    expect(checkOutboundUrl("https://hooks.example.com:443/x").hostname).toBe("hooks.example.com");
    expect(checkOutboundUrl("https://93.184.216.34/hook").hostname).toBe("93.184.216.34");
    expect(checkOutboundUrl("https://[2606:4700:4700::1111]/hook").hostname).toBe("[2606:4700:4700::1111]");
  });

  it("refuses other schemes, ports and credentials", () => {
    for (const url of [
      "http://hooks.example.com/x",
      "ftp://hooks.example.com/x",
      "file:///etc/passwd",
      "gopher://hooks.example.com/",
      "https://hooks.example.com:8443/x",
      "https://hooks.example.com:80/x",
      "https://user:pass@hooks.example.com/x",
      "https://user@hooks.example.com/x",
      "https://hooks.example.com@127.0.0.1/x",
      "not a url",
      "/relative/path",
    ])
      refused(url);
  });

  // Each spelling of loopback, private, link-local, CGNAT, unique-local and metadata addresses.
  const bypasses = [
    "https://127.0.0.1/",
    "https://127.1/",
    "https://127.0.1/",
    "https://2130706433/",
    "https://0x7f000001/",
    "https://0x7f.0x0.0x0.0x1/",
    "https://0x7f.1/",
    "https://0177.0.0.1/",
    "https://0177.1/",
    "https://017700000001/",
    "https://127.000.000.001/",
    "https://%31%32%37.0.0.1/",
    "https://１２７.０.０.１/",
    "https://127.0.0.1./",
    "https://0.0.0.0/",
    "https://0/",
    "https://10.0.0.1/",
    "https://10.255.255.255/",
    "https://167772161/",
    "https://172.16.0.1/",
    "https://172.31.255.254/",
    "https://0xac100001/",
    "https://192.168.1.1/",
    "https://3232235777/",
    "https://0300.0250.1.1/",
    "https://100.64.0.1/",
    "https://100.127.255.254/",
    "https://100.100.100.200/",
    "https://169.254.169.254/latest/meta-data/",
    "https://2852039166/",
    "https://0xa9fea9fe/",
    "https://0251.0376.0251.0376/",
    "https://169.254.0.1/",
    "https://224.0.0.1/",
    "https://255.255.255.255/",
    "https://198.18.0.1/",
    "https://[::1]/",
    "https://[0:0:0:0:0:0:0:1]/",
    "https://[::]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:7f00:1]/",
    "https://[::ffff:10.0.0.1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://[::ffff:a9fe:a9fe]/",
    "https://[::127.0.0.1]/",
    "https://[64:ff9b::127.0.0.1]/",
    "https://[64:ff9b::a9fe:a9fe]/",
    "https://[2002:7f00:1::]/",
    "https://[2002:a9fe:a9fe::1]/",
    "https://[fc00::1]/",
    "https://[fd00:ec2::254]/",
    "https://[fdff:ffff::1]/",
    "https://[fe80::1]/",
    "https://[fe80::1%25eth0]/",
    "https://[ff02::1]/",
    "https://[2001:db8::1]/",
    "https://[2001:0::1]/",
    "https://localhost/",
    "https://LOCALHOST/",
    "https://localhost./",
    "https://api.localhost/",
    "https://a.b.localhost/",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://metadata/",
    "https://instance-data/",
    "https://printer.local/",
    "https://router.home.arpa/",
    "https://1.0.0.127.in-addr.arpa/",
    "https://intranet/",
  ];
  it.each(bypasses)("refuses %s", (url) => refused(url));

  it("refuses the same spellings over http even with loopback allowed, except loopback itself", () => {
    const policy = { allowLoopback: true };
    expect(checkOutboundUrl("http://127.0.0.1:8080/hook", policy).port).toBe("8080");
    expect(checkOutboundUrl("http://2130706433:9000/", policy).hostname).toBe("127.0.0.1");
    expect(checkOutboundUrl("http://[::1]:9000/", policy).hostname).toBe("[::1]");
    expect(checkOutboundUrl("http://localhost:9000/", policy).hostname).toBe("localhost");
    for (const url of ["http://10.0.0.1/", "https://169.254.169.254/", "https://[fd00::1]/", "http://192.168.0.1:8080/", "https://metadata.google.internal/"]) refused(url, policy);
    refused("http://127.0.0.1:8080/hook");
  });

  it("keeps provider channels on their hosts", () => {
    const slack = { allowedHost: hostIn("hooks.slack.com") };
    expect(checkOutboundUrl("https://hooks.slack.com/services/T000/B000/XXXX", slack).hostname).toBe("hooks.slack.com");
    refused("https://hooks.slack.com.evil.example/services/x", slack);
    refused("https://evil.example/hooks.slack.com", slack);
    refused("https://xhooks.slack.com/services/x", slack);
    const teams = { allowedHost: hostIn(".webhook.office.com", ".logic.azure.com") };
    expect(checkOutboundUrl("https://acme.webhook.office.com/webhookb2/x", teams).hostname).toBe("acme.webhook.office.com");
    refused("https://webhook.office.com.evil.example/x", teams);
    refused("https://evilwebhook.office.com/x", teams);
  });
});

describe("outboundFetch", () => {
  afterEach(() => vi.restoreAllMocks());

  it("does not follow redirects, and checks the URL before any request", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(async (_input, init) => {
      expect(init?.redirect).toBe("manual");
      return new Response(null, { status: 302, headers: { Location: "http://169.254.169.254/" } });
    });
    const answer = await outboundFetch("https://hooks.example.com/x", { method: "POST" });
    expect(answer.status).toBe(302);
    expect(fetchSpy).toHaveBeenCalledTimes(1);
    await expect(outboundFetch("https://169.254.169.254/", {})).rejects.toThrow(OutboundUrlError);
    expect(fetchSpy).toHaveBeenCalledTimes(1);
  });

  it("reads at most the cap of a response", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("x".repeat(100_000)));
    const answer = await outboundFetch("https://hooks.example.com/x", {}, { maxResponseBytes: 1000 });
    expect(answer.body.length).toBe(1000);
    expect(answer.truncated).toBe(true);
  });

  it("gives up after the timeout", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(
      (_input, init) =>
        new Promise((_resolve, reject) => {
          init?.signal?.addEventListener("abort", () => reject(init.signal!.reason));
        }),
    );
    await expect(outboundFetch("https://hooks.example.com/x", {}, { timeoutMs: 50 })).rejects.toThrow(OutboundRequestError);
  });
});
