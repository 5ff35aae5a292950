// `npm run bench`: how much throughput an API-key-authenticated, rate-limited request keeps compared
// with a bare one, on a local `wrangler dev`, plus the size of the bundle `wrangler deploy` would upload.
//
//   BENCH_DURATION=10       seconds each route is measured
//   BENCH_CONNECTIONS=10    concurrent connections autocannon keeps open
//   BENCH_WARMUP=2          seconds of warm-up per route before measuring
//
// Targets: the authenticated route keeps >= 50% of the bare route's requests/s, and the worker
// bundle is under 1 MB (MiB) gzipped. Exits non-zero if the run itself fails (not if a target is missed).
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { promisify } from "node:util";
import autocannon from "autocannon";
import { setUpLocal } from "../scripts/local-setup.mjs";
import { fmt, positiveInt, printMachine, root, startWrangler, stopWrangler, wrangler } from "./lib/server.mjs";
import { runBench } from "./lib/api.mjs";

let DURATION, CONNECTIONS, WARMUP; // read in main(), so a bad value is reported like any other error
const DRY_RUN_TIMEOUT_MS = 120_000;
const TARGET_RATIO = 0.5;
const BUNDLE_LIMIT_BYTES = 1024 * 1024;

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

/** One autocannon run; resolves with its result (autocannon returns a promise without a callback). */
async function load(url, headers, seconds) {
  const result = await autocannon({ url, headers, connections: CONNECTIONS, duration: seconds, timeout: 10 });
  const responses = result["1xx"] + result["2xx"] + result["3xx"] + result["4xx"] + result["5xx"];
  return { ...result, responses };
}

function summarize(label, result) {
  const statuses = Object.entries(result.statusCodeStats ?? {})
    .map(([code, { count }]) => `${code}: ${fmt(count)}`)
    .join(", ");
  console.log(`  ${label}`);
  console.log(`    requests/s  mean ${fmt(result.requests.mean, 1)} (stddev ${fmt(result.requests.stddev, 1)})`);
  console.log(`    latency     p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms (mean ${fmt(result.latency.mean, 2)} ms)`);
  console.log(`    responses   ${fmt(result.responses)} (${statuses || "none"}), non-2xx ${fmt(result.non2xx)}, errors ${fmt(result.errors)}, timeouts ${fmt(result.timeouts)}`);
}

/** A benchmark of error responses measures nothing useful: refuse it loudly. */
function assertMostlyOk(label, result) {
  if (result.responses === 0) throw new Error(`${label}: no responses at all (errors ${result.errors}, timeouts ${result.timeouts})`);
  const okShare = result["2xx"] / result.responses;
  if (okShare < 0.5) {
    throw new Error(`${label}: only ${(okShare * 100).toFixed(1)}% of ${result.responses} responses were 2xx (status counts: ${JSON.stringify(result.statusCodeStats)})`);
  }
}

async function measureThroughput(credentials) {
  const { baseUrl, handle: running } = await startWrangler();

  const routes = [
    { label: "bare           GET /health", url: `${baseUrl}/health`, headers: {} },
    {
      label: "authenticated  GET /api/projects/:id (API key)",
      url: `${baseUrl}/api/projects/${credentials.projectId}`,
      headers: { authorization: `Bearer ${credentials.apiKey}` },
    },
  ];

  // A single request first, so a broken route (401/404/500) fails in a second, not after the warm-up.
  for (const route of routes) {
    const response = await fetch(route.url, { headers: route.headers, signal: AbortSignal.timeout(10_000) });
    const body = await response.text();
    if (response.status !== 200) throw new Error(`${route.url} answered ${response.status}: ${body.slice(0, 500)}`);
    // The default limit (1000 per window) would turn the run into 429s: check the --var override took.
    const limit = response.headers.get("RateLimit-Limit");
    if (limit !== null && limit !== "1000000000") throw new Error(`RateLimit-Limit is ${limit}, expected 1000000000: --var RATE_LIMIT_MAX did not apply`);
  }

  // Warm-up: JIT, the isolate's API-key cache, the rate-limit Durable Objects and D1 all get hot.
  console.log(`Warming up (${WARMUP} s per route)...`);
  for (const route of routes) await load(route.url, route.headers, WARMUP);

  console.log(`Measuring (${DURATION} s per route, ${CONNECTIONS} connections)...`);
  const reloadsBefore = running.reloads;
  const results = [];
  for (const route of routes) results.push(await load(route.url, route.headers, DURATION));
  const reloadsDuring = running.reloads - reloadsBefore;
  await stopWrangler();

  console.log("");
  console.log("Throughput");
  routes.forEach((route, i) => summarize(route.label, results[i]));
  routes.forEach((route, i) => assertMostlyOk(route.label.trim(), results[i]));

  const [bare, authenticated] = results;
  const ratio = authenticated.requests.mean / bare.requests.mean;
  console.log(`  authenticated / bare  ${(ratio * 100).toFixed(1)}%`);
  console.log(`  target (>= ${TARGET_RATIO * 100}% of bare)  ${ratio >= TARGET_RATIO ? "MET" : "NOT MET"}`);
  if (reloadsDuring > 0) {
    console.log(`  WARNING: wrangler dev reloaded ${reloadsDuring} time(s) during the measurement (src/ changed); numbers are skewed, run again.`);
  }
  console.log("");
}

/** All files under dir, recursively. */
function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

async function measureBundle() {
  const outdir = mkdtempSync(join(tmpdir(), "segmento-bundle-"));
  try {
    // --dry-run bundles exactly what deploy would upload without contacting Cloudflare (works offline).
    const { stdout } = await promisify(execFile)(wrangler, ["deploy", "--dry-run", "--outdir", outdir], {
      cwd: root,
      env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
      timeout: DRY_RUN_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error) => {
      throw new Error(`wrangler deploy --dry-run failed: ${error.message}\n${error.stdout ?? ""}${error.stderr ?? ""}`);
    });
    // Every emitted JS module counts towards the upload limit; source maps are not uploaded.
    const modules = filesUnder(outdir).filter((file) => /\.(m?js|cjs)$/.test(file));
    if (modules.length === 0) throw new Error(`wrangler deploy --dry-run emitted no JS in ${outdir}: ${readdirSync(outdir).join(", ")}`);
    let raw = 0;
    let gzip = 0;
    console.log("Bundle (wrangler deploy --dry-run)");
    for (const file of modules) {
      const content = readFileSync(file);
      const gz = gzipSync(content).length;
      raw += statSync(file).size;
      gzip += gz;
      console.log(`  ${relative(outdir, file).padEnd(12)} raw ${kib(content.length)}, gzip ${kib(gz)}`);
    }
    if (modules.length > 1) console.log(`  total        raw ${kib(raw)}, gzip ${kib(gzip)}`);
    const reported = /Total Upload: .*/.exec(stdout)?.[0];
    if (reported) console.log(`  (wrangler reports "${reported}")`);
    console.log(`  target (< 1 MiB gzip)  ${gzip < BUNDLE_LIMIT_BYTES ? "MET" : "NOT MET"} (${kib(gzip)} of ${kib(BUNDLE_LIMIT_BYTES)})`);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

async function main() {
  DURATION = positiveInt("BENCH_DURATION", 10);
  CONNECTIONS = positiveInt("BENCH_CONNECTIONS", 10);
  WARMUP = positiveInt("BENCH_WARMUP", 2);
  printMachine();
  console.log("Preparing local D1 (migrate + seed demo data)...");
  const credentials = setUpLocal({ quiet: true });
  await measureThroughput(credentials);
  await measureBundle();
}

await runBench(main);
