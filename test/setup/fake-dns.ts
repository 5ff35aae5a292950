import { publicDnsAnswer } from "../fake-dns";

// Every test file's Worker resolves webhook hosts through the fake resolver: a name resolves to a
// public address unless a test intercepts fetch and answers its queries itself (test/fake-dns.ts).
const realFetch = globalThis.fetch;
globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => publicDnsAnswer(new Request(input, init)) ?? realFetch(input, init);
