// `npm run bench:ingest`: how long the ingest pipeline (API or upload → R2 → queue → consumer → D1)
// takes end to end on a local `wrangler dev`, for
//   A. 10,000 generated transactions in one POST /api/v1/ingest (API key), target < 5 s;
//   B. the CDNOW data set (69,659 rows, 23,570 customers) converted to CSV and uploaded as a file
//      through POST /api/engine/projects/:id/files (session), target < 30 s.
// Each is timed from just before the request until GET /api/engine/jobs/:id/status says `completed`
// (polled every 100 ms), each in a fresh project, so runs never see each other's data. The job's own
// timestamps (created/started/finished) split the time into request, queue wait and processing.
//
//   BENCH_JOB_TIMEOUT=300   seconds to wait for one job before giving up
//   CDNOW_FILE=…            the CDNOW_master.txt to upload (default ../shared/data/cdnow/CDNOW_master.txt)
//
// Exits non-zero if the run itself fails (a request fails, a job fails or times out, counts are
// wrong), not if a target is missed.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { setUpLocal } from "../scripts/local-setup.mjs";
import { fmt, positiveInt, printMachine, root, sleep, startWrangler, stopWrangler, wrangler } from "./lib/server.mjs";
import { apiClient, runBench } from "./lib/api.mjs";
import { random } from "./lib/random.mjs";

const API_RECORDS = 10_000;
const API_CUSTOMERS = 2_000;
const API_TARGET_SECONDS = 5;
const CDNOW_ROWS = 69_659;
const CDNOW_CUSTOMERS = 23_570;
const CDNOW_TARGET_SECONDS = 30;
const POLL_MS = 100;
const REQUEST_TIMEOUT_MS = 120_000;

let JOB_TIMEOUT_MS; // read in main(), so a bad value is reported like any other error
let server; // { baseUrl, handle } of the running wrangler dev
const wranglerLines = []; // every line wrangler dev printed, with the time it arrived

// ---------------------------------------------------------------------------------------------
// HTTP helpers

/** A request that must answer `expected`; anything else fails the run with the body. */
const { call, signIn } = apiClient(() => server.baseUrl, REQUEST_TIMEOUT_MS);

/** A new project in the demo organization, with its own API key. */
async function freshProject(session, credentials, label) {
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const project = await call("POST", `/api/organizations/${credentials.organizationId}/projects`, {
    token: session,
    json: { name: `bench ${label} ${stamp}` },
    expected: 201,
  });
  const key = await call("POST", `/api/projects/${project.id}/api-keys`, { token: session, json: { name: `bench ${label}` }, expected: 201 });
  return { id: project.id, apiKey: key.key };
}

const ms = (iso) => (iso ? Date.parse(iso) : null);

/**
 * Polls the job's status (and live progress) every 100 ms until it is completed or failed. Returns
 * the final status record, when the poller first saw it finish and first saw it started, and the
 * progress steps it observed (each new pct/message with the time first seen).
 */
async function waitForJob(jobId, token) {
  const deadline = Date.now() + JOB_TIMEOUT_MS;
  const steps = [];
  let firstSeenStarted = null;
  let lastStep = "";
  for (;;) {
    const tick = Date.now();
    const [status, progress] = await Promise.all([
      call("GET", `/api/engine/jobs/${jobId}/status`, { token }),
      call("GET", `/api/engine/jobs/${jobId}/progress`, { token }),
    ]);
    const seenAt = Date.now();
    if (firstSeenStarted === null && status.started_at) firstSeenStarted = seenAt;
    const step = `${progress.status} ${progress.pct}% ${progress.message ?? ""}`;
    if (step !== lastStep) {
      steps.push({ at: seenAt, status: progress.status, pct: progress.pct, message: progress.message });
      lastStep = step;
    }
    if (status.status === "completed" || status.status === "failed") return { job: status, doneSeenAt: seenAt, firstSeenStarted, steps };
    if (seenAt > deadline) {
      throw new Error(`job ${jobId} still ${status.status} (${status.pct}%: ${status.message}) after ${JOB_TIMEOUT_MS / 1000} s`);
    }
    await sleep(Math.max(0, POLL_MS - (Date.now() - tick)));
  }
}

/** Customers stored for a project. No route exposes the count, so ask the local D1 directly. */
async function customerCount(projectId) {
  if (!/^[\w-]+$/.test(projectId)) throw new Error(`unexpected project id ${JSON.stringify(projectId)}`);
  const { stdout } = await promisify(execFile)(
    wrangler,
    ["d1", "execute", "DB", "--local", "--json", "--command", `SELECT COUNT(*) AS n FROM customers WHERE project_id = '${projectId}'`],
    { cwd: root, env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
  ).catch((error) => {
    throw new Error(`wrangler d1 execute failed: ${error.message}\n${error.stdout ?? ""}${error.stderr ?? ""}`);
  });
  const n = JSON.parse(stdout)?.[0]?.results?.[0]?.n;
  if (typeof n !== "number") throw new Error(`wrangler d1 execute gave no count: ${stdout.slice(0, 500)}`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Data


const COUNTRIES = [
  ["TR", 30], ["DE", 20], ["US", 15], ["GB", 10], ["FR", 8], ["NL", 6], ["IT", 5], ["ES", 4], ["SE", 2],
];

/**
 * `count` orders of `customers` customers (each appears at least once): order dates within the last
 * two years (never in the future), log-normal amounts with 2 decimals (median about 45), a country.
 */
function generateRecords(count, customers, now = Date.now()) {
  const rand = random(20_260_501);
  const totalWeight = COUNTRIES.reduce((sum, [, w]) => sum + w, 0);
  const country = () => {
    let r = rand() * totalWeight;
    for (const [code, w] of COUNTRIES) if ((r -= w) < 0) return code;
    return COUNTRIES[0][0];
  };
  const twoYears = 730 * 86_400_000;
  const records = [];
  for (let i = 0; i < count; i++) {
    const customer = i < customers ? i : Math.floor(rand() * customers);
    // Box-Muller for a normal, exp() for a log-normal amount.
    const normal = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    const amount = Math.max(0.5, Math.round(Math.exp(3.8 + 0.8 * normal) * 100) / 100);
    const orderedAt = new Date(now - 60_000 - Math.floor(rand() * twoYears));
    records.push({
      customer_id: `C-${String(customer + 1).padStart(5, "0")}`,
      order_date: orderedAt.toISOString().replace(/\.\d{3}Z$/, "Z"),
      amount,
      country: country(),
    });
  }
  // Shuffle (Fisher-Yates), so the customers who appear once are not all at the start.
  for (let i = records.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [records[i], records[j]] = [records[j], records[i]];
  }
  return records;
}

/** CDNOW_master.txt (`customer_id date number_of_cds dollar_value`, one header line) as CSV text. */
function cdnowCsv(path) {
  const lines = readFileSync(path, "utf8").split(/\r?\n/).filter((line) => line.trim() !== "");
  const [header, ...rows] = lines;
  if (!/customer_id\s+date\s+number_of_cds\s+dollar_value/.test(header)) throw new Error(`${path}: unexpected header ${JSON.stringify(header)}`);
  const customers = new Set();
  const out = ["customer_id,order_date,amount,quantity"];
  rows.forEach((line, i) => {
    const fields = line.trim().split(/\s+/);
    const [id, date, cds, dollars] = fields;
    if (fields.length !== 4 || !/^\d{8}$/.test(date)) throw new Error(`${path}: line ${i + 2} is not "customer_id date number_of_cds dollar_value": ${JSON.stringify(line)}`);
    customers.add(id);
    out.push(`${id},${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)},${dollars},${cds}`);
  });
  return { csv: `${out.join("\n")}\n`, rows: rows.length, customers: customers.size };
}

// ---------------------------------------------------------------------------------------------
// Reporting

const secs = (msValue) => `${(msValue / 1000).toFixed(2)} s`;
const clock = (at) => new Date(at).toISOString().slice(11, 23);

/**
 * Where the time went, from the client's clock and the job's own timestamps (same machine). In
 * `wrangler dev` the queue consumer runs in the same isolate as the fetch handler, so status polls
 * made while it parses and writes can wait until it yields: the progress seen is coarse, the job's
 * timestamps are not.
 */
function breakdown(t0, acceptedAt, { job, doneSeenAt, firstSeenStarted, steps }) {
  const created = ms(job.created_at);
  const started = ms(job.started_at);
  const finished = ms(job.finished_at);
  console.log(`    request   ${secs(acceptedAt - t0)} until 202 (job created ${secs(created - t0)} after the start)`);
  if (started !== null) {
    console.log(`    queue     ${secs(started - created)} from job created to consumer started (first poll answer showing it started: ${secs(firstSeenStarted - t0)} after the start)`);
  }
  if (started !== null && finished !== null) console.log(`    process   ${secs(finished - started)} from consumer started to job finished`);
  if (finished !== null) console.log(`    observed  ${secs(doneSeenAt - finished)} after finished_at (polling every ${POLL_MS} ms)`);
  console.log(`    progress seen (time since start, live progress):`);
  for (const step of steps) console.log(`      +${secs(step.at - t0).padStart(8)}  ${step.status.padEnd(10)} ${String(step.pct).padStart(3)}%  ${step.message ?? ""}`);
}

/** wrangler dev's own lines about queue batches and errors between two times. */
function printQueueLog(from, to) {
  const lines = wranglerLines.filter(({ at, line }) => at >= from && at <= to && /queue|segmento-ingest|error|✘/i.test(line));
  if (lines.length === 0) return;
  console.log(`    wrangler dev (queue lines):`);
  for (const { at, line } of lines.slice(-12)) console.log(`      +${secs(at - from).padStart(8)}  ${line.trim().slice(0, 160)}`);
}

function verdict(seconds, target) {
  if (seconds < target) return `MET (${seconds.toFixed(2)} s of ${target} s)`;
  return `NOT MET (${seconds.toFixed(2)} s, ${(seconds - target).toFixed(2)} s or ${(((seconds - target) / target) * 100).toFixed(0)}% over ${target} s)`;
}

function assertCompleted(label, job, expectedRows) {
  if (job.status !== "completed") {
    throw new Error(`${label}: job ${job.job_id} ended ${job.status}: ${job.error_message ?? job.message} (result ${JSON.stringify(job.result)?.slice(0, 800)})`);
  }
  const accepted = job.result?.rows_accepted;
  if (accepted !== expectedRows) {
    throw new Error(
      `${label}: rows_accepted is ${accepted}, expected ${expectedRows} (rows_total ${job.result?.rows_total}, rejected ${job.result?.rows_rejected}; first rejections ${JSON.stringify(job.result?.rejections?.slice(0, 5))})`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Measurements

/** A tiny ingest first, in its own project: the worker, the queue consumer and the DOs get warm. */
async function warmUp(session, credentials) {
  const project = await freshProject(session, credentials, "warm-up");
  const t0 = Date.now();
  const accepted = await call("POST", "/api/v1/ingest", {
    token: project.apiKey,
    json: { project_id: project.id, records: generateRecords(10, 5) },
    expected: 202,
  });
  const outcome = await waitForJob(accepted.job_id, project.apiKey);
  assertCompleted("warm-up", outcome.job, 10);
  console.log(`Warm-up: 10 records through the pipeline in ${secs(outcome.doneSeenAt - t0)}`);
}

async function measureApi(session, credentials) {
  const records = generateRecords(API_RECORDS, API_CUSTOMERS);
  const body = { project_id: "", records };
  const project = await freshProject(session, credentials, "ingest-api");
  body.project_id = project.id;
  const payload = JSON.stringify(body);
  console.log(`A. POST /api/v1/ingest: ${fmt(API_RECORDS)} records, ${fmt(API_CUSTOMERS)} customers, ${(payload.length / 1024).toFixed(0)} KiB JSON, project ${project.id}`);

  const reloadsBefore = server.handle.reloads;
  const t0 = Date.now();
  const response = await fetch(`${server.baseUrl}/api/v1/ingest`, {
    method: "POST",
    headers: { authorization: `Bearer ${project.apiKey}`, "content-type": "application/json" },
    body: payload,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  const acceptedAt = Date.now();
  if (response.status !== 202) throw new Error(`POST /api/v1/ingest answered ${response.status}: ${text.slice(0, 500)}`);
  const accepted = JSON.parse(text);
  const outcome = await waitForJob(accepted.job_id, project.apiKey);
  const elapsed = outcome.doneSeenAt - t0;
  const reloads = server.handle.reloads - reloadsBefore;

  assertCompleted("A (API ingest)", outcome.job, API_RECORDS);
  const seconds = elapsed / 1000;
  console.log(`    job       ${accepted.job_id}: ${outcome.job.status}, rows_accepted ${fmt(outcome.job.result.rows_accepted)}, rejected ${fmt(outcome.job.result.rows_rejected)}, customers ${fmt(outcome.job.result.customers)}`);
  breakdown(t0, acceptedAt, outcome);
  printQueueLog(t0, outcome.doneSeenAt);
  if (outcome.job.result.customers !== API_CUSTOMERS) console.log(`    WARNING: the job counted ${outcome.job.result.customers} customers, expected ${API_CUSTOMERS}`);
  if (reloads > 0) console.log(`    WARNING: wrangler dev reloaded ${reloads} time(s) during the measurement (src/ changed); numbers are skewed, run again.`);
  console.log(`  total      ${seconds.toFixed(2)} s, ${fmt(API_RECORDS / seconds, 0)} rows/s`);
  console.log(`  target (< ${API_TARGET_SECONDS} s)  ${verdict(seconds, API_TARGET_SECONDS)}`);
  console.log("");
  return { seconds, met: seconds < API_TARGET_SECONDS };
}

async function measureUpload(session, credentials) {
  const path = process.env.CDNOW_FILE || join(root, "..", "shared", "data", "cdnow", "CDNOW_master.txt");
  const data = cdnowCsv(path);
  if (data.rows !== CDNOW_ROWS || data.customers !== CDNOW_CUSTOMERS) {
    throw new Error(`${path}: ${data.rows} rows and ${data.customers} customers, expected ${CDNOW_ROWS} and ${CDNOW_CUSTOMERS}`);
  }
  const project = await freshProject(session, credentials, "ingest-upload");
  const bytes = Buffer.byteLength(data.csv);
  console.log(`B. POST /api/engine/projects/:id/files: cdnow.csv, ${fmt(data.rows)} rows, ${fmt(data.customers)} customers, ${(bytes / 1024 / 1024).toFixed(2)} MiB, project ${project.id}`);

  const form = new FormData();
  form.append("file", new Blob([data.csv], { type: "text/csv" }), "cdnow.csv");
  const reloadsBefore = server.handle.reloads;
  const t0 = Date.now();
  const accepted = await call("POST", `/api/engine/projects/${project.id}/files`, { token: session, form, expected: 202 });
  const acceptedAt = Date.now();
  const outcome = await waitForJob(accepted.job_id, session);
  const elapsed = outcome.doneSeenAt - t0;
  const reloads = server.handle.reloads - reloadsBefore;

  assertCompleted("B (CDNOW upload)", outcome.job, CDNOW_ROWS);
  const stored = await customerCount(project.id);
  if (stored !== CDNOW_CUSTOMERS) throw new Error(`B (CDNOW upload): the project has ${stored} customers in D1, expected ${CDNOW_CUSTOMERS}`);
  const seconds = elapsed / 1000;
  console.log(`    job       ${accepted.job_id}: ${outcome.job.status}, rows_accepted ${fmt(outcome.job.result.rows_accepted)}, rejected ${fmt(outcome.job.result.rows_rejected)}, customers ${fmt(outcome.job.result.customers)} (D1: ${fmt(stored)})`);
  breakdown(t0, acceptedAt, outcome);
  printQueueLog(t0, outcome.doneSeenAt);
  if (reloads > 0) console.log(`    WARNING: wrangler dev reloaded ${reloads} time(s) during the measurement (src/ changed); numbers are skewed, run again.`);
  console.log(`  total      ${seconds.toFixed(2)} s, ${fmt(CDNOW_ROWS / seconds, 0)} rows/s`);
  console.log(`  target (< ${CDNOW_TARGET_SECONDS} s)  ${verdict(seconds, CDNOW_TARGET_SECONDS)}`);
  console.log("");
  return { seconds, met: seconds < CDNOW_TARGET_SECONDS };
}

async function main() {
  JOB_TIMEOUT_MS = positiveInt("BENCH_JOB_TIMEOUT", 300) * 1000;
  printMachine();
  console.log("Preparing local D1 (migrate + seed demo data)...");
  const credentials = setUpLocal({ quiet: true });
  server = await startWrangler({ onLine: (line, at) => wranglerLines.push({ line, at }) });
  const session = await signIn(credentials);
  await warmUp(session, credentials);
  console.log("");
  console.log("Ingest (each in a fresh project; timed from the request until the job is completed)");
  const api = await measureApi(session, credentials);
  const upload = await measureUpload(session, credentials);
  await stopWrangler();
  console.log("Summary");
  console.log(`  A. API ingest, ${fmt(API_RECORDS)} records   ${api.seconds.toFixed(2)} s  ${fmt(API_RECORDS / api.seconds)} rows/s  target < ${API_TARGET_SECONDS} s ${api.met ? "MET" : "NOT MET"}`);
  console.log(`  B. CDNOW upload, ${fmt(CDNOW_ROWS)} rows  ${upload.seconds.toFixed(2)} s  ${fmt(CDNOW_ROWS / upload.seconds)} rows/s  target < ${CDNOW_TARGET_SECONDS} s ${upload.met ? "MET" : "NOT MET"}`);
}

await runBench(main);
