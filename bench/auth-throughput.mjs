// `npm run bench`: how much throughput the project keeps compared with a bare Hono Worker (bench/bare-worker,
// GET /health and nothing else), both served by `wrangler dev` in the same run, plus the size of the bundle
// `wrangler deploy` would upload. Three routes are measured in interleaved rounds (so background load on a
// shared machine falls on each alike): the bare Worker's GET /health, the project's GET /health (rate-limited
// per client IP), and the project's API-key-authenticated, rate-limited GET /api/projects/:id.
//
//   BENCH_DURATION=12       seconds each route is measured (split over BENCH_ROUNDS rounds)
//   BENCH_ROUNDS=6          interleaved rounds; a ratio is also taken per round, between runs seconds apart
//   BENCH_CONNECTIONS=10    concurrent connections autocannon keeps open
//   BENCH_WARMUP=2          seconds of warm-up per route before measuring
//
// Targets: the authenticated route keeps >= 60% of the bare Worker's requests/s, and the worker bundle is
// under 1 MB (MiB) gzipped. Exits non-zero if the run itself fails (not if a target is missed).
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { promisify } from "node:util";
import autocannon from "autocannon";
import { setUpLocal } from "../scripts/local-setup.mjs";
import { fmt, positiveInt, printMachine, root, startWrangler, stopWrangler, wrangler } from "./lib/server.mjs";
import { runBench } from "./lib/api.mjs";

let DURATION, ROUNDS, CONNECTIONS, WARMUP; // read in main(), so a bad value is reported like any other error
const DRY_RUN_TIMEOUT_MS = 120_000;
const TARGET_RATIO = 0.6;
const BARE_WORKER_CONFIG = "bench/bare-worker/wrangler.toml";
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
  const rounds = result.rounds ? `; rounds ${result.rounds.map((r) => fmt(r, 0)).join(", ")}` : "";
  console.log(`    requests/s  mean ${fmt(result.requests.mean, 1)} (stddev ${fmt(result.requests.stddev, 1)}${rounds})`);
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

const load1 = () => loadavg().map((n) => n.toFixed(2)).join(" ");

/** Adds one round's autocannon result into a route's running total. */
function accumulate(total, result) {
  if (!total) return { ...result, rounds: [result.requests.mean] };
  total.rounds.push(result.requests.mean);
  for (const key of ["1xx", "2xx", "3xx", "4xx", "5xx", "non2xx", "errors", "timeouts", "responses"]) total[key] += result[key];
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) {
    total.statusCodeStats[code] = { count: (total.statusCodeStats[code]?.count ?? 0) + count };
  }
  total.requests = { mean: total.rounds.reduce((a, b) => a + b, 0) / total.rounds.length, stddev: stddevOf(total.rounds) };
  total.latency = result.latency; // the last round's latencies (percentiles do not add up)
  return total;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function stddevOf(values) {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
}

async function measureThroughput(credentials) {
  const bare = await startWrangler({ config: BARE_WORKER_CONFIG });
  const project = await startWrangler();

  const routes = [
    { label: "bare Worker  GET /health", url: `${bare.baseUrl}/health`, headers: {} },
    { label: "project      GET /health (rate-limited per IP)", url: `${project.baseUrl}/health`, headers: {} },
    {
      label: "project      GET /api/projects/:id (API key, rate-limited)",
      url: `${project.baseUrl}/api/projects/${credentials.projectId}`,
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

  const secondsPerRound = Math.max(1, Math.round(DURATION / ROUNDS));
  console.log(`Measuring (${ROUNDS} interleaved rounds of ${secondsPerRound} s per route, ${CONNECTIONS} connections; load before: ${load1()})...`);
  const reloadsBefore = project.handle.reloads;
  const results = routes.map(() => null);
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round, so no route always runs first or last.
    for (let k = 0; k < routes.length; k++) {
      const i = (round + k) % routes.length;
      results[i] = accumulate(results[i], await load(routes[i].url, routes[i].headers, secondsPerRound));
    }
  }
  const reloadsDuring = project.handle.reloads - reloadsBefore;
  const loadAfter = load1();
  await stopWrangler();

  console.log("");
  console.log(`Throughput (load average after: ${loadAfter} (1/5/15 min), ${cpus().length} CPUs)`);
  routes.forEach((route, i) => summarize(route.label, results[i]));
  routes.forEach((route, i) => assertMostlyOk(route.label.trim(), results[i]));

  const [bareResult, health, authenticated] = results;
  const healthRatio = health.requests.mean / bareResult.requests.mean;
  const ratio = authenticated.requests.mean / bareResult.requests.mean;
  // Per round too: the routes of one round ran seconds apart, under much the same background load.
  const perRound = (result) => result.rounds.map((r, i) => r / bareResult.rounds[i]);
  const spread = (ratios) => `median ${median(ratios).toFixed(2)}x, rounds ${ratios.map((r) => r.toFixed(2)).join(" ")}`;
  console.log(`  project /health / bare Worker         ${healthRatio.toFixed(2)}x  (per round: ${spread(perRound(health))})`);
  console.log(`  authenticated route / bare Worker     ${ratio.toFixed(2)}x  (per round: ${spread(perRound(authenticated))})`);
  console.log(`  target (authenticated >= ${TARGET_RATIO}x bare)  ${ratio >= TARGET_RATIO ? "MET" : "NOT MET"}`);
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
  DURATION = positiveInt("BENCH_DURATION", 12);
  ROUNDS = positiveInt("BENCH_ROUNDS", 6);
  CONNECTIONS = positiveInt("BENCH_CONNECTIONS", 10);
  WARMUP = positiveInt("BENCH_WARMUP", 2);
  printMachine();
  console.log("Preparing local D1 (migrate + seed demo data)...");
  const credentials = setUpLocal({ quiet: true });
  await measureThroughput(credentials);
  await measureBundle();
}

await runBench(main);
