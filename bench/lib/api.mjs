// A small JSON client for the local server the benchmarks start, and the run-and-clean-up wrapper
// every benchmark ends with.
import { stopWrangler } from "./server.mjs";

/** `call(method, path, {token, json, form, expected})` against `baseUrl()`; throws on an unexpected status. */
export function apiClient(baseUrl, timeoutMs) {
  async function call(method, path, { token, json, form, expected = 200 } = {}) {
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    let body;
    if (json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      body = form; // fetch sets the multipart boundary
    }
    const response = await fetch(`${baseUrl()}${path}`, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    if (response.status !== expected) throw new Error(`${method} ${path} answered ${response.status} (expected ${expected}): ${text.slice(0, 500)}`);
    return text === "" ? null : JSON.parse(text);
  }
  async function signIn(credentials) {
    const { token } = await call("POST", "/api/auth/sign-in/email", { json: { email: credentials.email, password: credentials.password } });
    if (!token) throw new Error("sign-in answered without a token");
    return token;
  }
  return { call, signIn };
}

/** Runs a benchmark's main, reports a failure as a non-zero exit, and always stops the server. */
export async function runBench(main) {
  try {
    await main();
  } catch (error) {
    console.error(`\nbench failed: ${error.message}`);
    process.exitCode = 1;
  } finally {
    await stopWrangler();
  }
}
