// `npm run bench:model-run`: one model run end to end on the local `wrangler dev` (workerd, local D1):
// a project of BENCH_CUSTOMERS (500,000: the Pro plan's profiles) generated customers, their
// aggregates written straight into the local D1 (SQL files of 500-row INSERTs through `wrangler d1
// execute --local --file`), then a segmentation run requested through the API and timed from the
// request to the job's `completed` (which includes SEGMENTATION_DELAY_SECONDS, 5 s, of coalescing),
// with the job's phases as its progress reports them. What
// `npm run bench:engine` leaves out: D1's pages read and written, the checkpoints, the membership
// snapshot. Local workerd enforces neither the 128 MB nor the CPU limit: memory and CPU are what
// bench:engine measures.
//
// Then similar customers (`GET /api/engine/customers/:id/similar?limit=10`) on the same project:
// the first request after the run completed (the embeddings are cleared before the run, so it writes
// every one anew; the project's SimilarityIndex is being built from D1 by the run's warm-up, or was), p50/p95 of BENCH_SIMILAR_REQUESTS more (one at a time, other
// customers), the memory the index holds (its typed arrays, as the object logs them); the first
// request on a fresh server (an evicted index: read back from the object's storage), and again with
// projects.embeddings_version moved while the server was down (built from D1 on the request, as
// after a model run whose warm-up did not happen); and the same requests
// on a server with VECTOR_STORE=d1-scan, the implementation the index replaced (every embedding
// read from D1 and parsed per request), with both answers compared (they must be equal).
//
//   BENCH_CUSTOMERS=500000       customers of the generated project
//   BENCH_JOB_TIMEOUT=1800       seconds to wait for the run
//   BENCH_SIMILAR_REQUESTS=50    warm /similar requests timed on the index
//   BENCH_SCAN_REQUESTS=5        /similar requests timed on the D1 scan (each reads the whole project)
//
// A project seeded completely by an earlier run (found by name) is reused. Exits non-zero if the run
// fails, not if it is slow.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { setUpLocal } from "../scripts/local-setup.mjs";
import { apiClient } from "./lib/api.mjs";
import { generatedCustomerPages } from "./lib/customers.mjs";
import { fmt, positiveInt, printMachine, root, sleep, startWrangler, stopWrangler, wrangler } from "./lib/server.mjs";

const CUSTOMERS = positiveInt("BENCH_CUSTOMERS", 500_000);
const JOB_TIMEOUT_MS = positiveInt("BENCH_JOB_TIMEOUT", 1800) * 1000;
const SIMILAR_REQUESTS = positiveInt("BENCH_SIMILAR_REQUESTS", 50);
const SCAN_REQUESTS = positiveInt("BENCH_SCAN_REQUESTS", 5);
const ROWS_PER_INSERT = 500;
const ROWS_PER_FILE = 100_000;
const PROJECT_NAME = `bench model run ${CUSTOMERS} customers`;
const tmpDir = join(root, ".wrangler", "tmp", "bench-model-run");
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const sqlString = (value) => (value === null || value === undefined ? "NULL" : `'${String(value).replaceAll("'", "''")}'`);

let server;
const { call, signIn } = apiClient(() => server.baseUrl, 300_000);
const ms = (value) => `${fmt(value)} ms`;
const percentile = (sorted, p) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];

/** What the SimilarityIndex logs when it is ready (its line in wrangler dev's output). */
const builds = [];
const onLine = (line) => {
  const at = line.indexOf('{"level":"info","message":"similarity index ready"');
  if (at !== -1) builds.push(JSON.parse(line.slice(at)));
};
/** The first index line logged after `mark` lines (output arrives after the answer: waits up to 10 s). */
async function readyAfter(mark) {
  for (let waited = 0; builds.length <= mark && waited < 10_000; waited += 100) await sleep(100);
  const line = builds[mark];
  return line ? `${line.source} at version ${fmt(line.version)} in ${ms(line.ms)}: ${fmt(line.customers)} customers x ${line.dimensions} dimensions, ${fmt(line.bytes / 1024 ** 2, 1)} MB` : "no index line logged";
}
const embeddingsVersion = async (projectId) => fmt((await d1Rows(`SELECT embeddings_version AS v FROM projects WHERE id = ${sqlString(projectId)}`))[0].v);

/** One timed /similar request: its time and answer (customer ids and similarities). */
async function similar(session, customer) {
  const started = performance.now();
  const body = await call("GET", `/api/engine/customers/${customer}/similar?limit=10`, { token: session });
  return { ms: performance.now() - started, answer: body.similar.map((s) => `${s.customer_id}:${s.similarity}`).join(",") };
}

/** Timings of /similar for `customers`, one request at a time, with their answers. */
async function similarRun(session, customers) {
  const runs = [];
  for (const customer of customers) runs.push(await similar(session, customer));
  const sorted = runs.map((r) => r.ms).sort((a, b) => a - b);
  return { runs, p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) };
}

async function d1(args) {
  const env = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" };
  const { stdout } = await promisify(execFile)(wrangler, ["d1", "execute", "DB", "--local", ...args], { cwd: root, env, timeout: 1_800_000, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}
const d1Rows = async (sql) => JSON.parse(await d1(["--json", "--command", sql]))[0].results;

/** The project row and its customers' aggregates (as ingest would have left them). Server stopped. */
async function seed(organizationId) {
  const started = Date.now();
  const projectId = `proj_BENCH${randomBytes(11).toString("hex").toUpperCase().slice(0, 21)}`;
  const now = Date.now();
  mkdirSync(tmpDir, { recursive: true });
  const head = join(tmpDir, "project.sql");
  writeFileSync(head, `INSERT INTO projects (id, organization_id, name, created_at, updated_at) VALUES (${sqlString(projectId)}, ${sqlString(organizationId)}, ${sqlString(`${PROJECT_NAME} (seeding)`)}, ${now}, ${now});\n`);
  await d1(["--file", head]);
  let rows = [];
  let statements = [];
  let written = 0;
  const flushInsert = () => {
    if (!rows.length) return;
    statements.push(
      `INSERT INTO customers (project_id, customer_id, first_purchase_at, last_purchase_at, last_transaction_at, frequency, purchase_days, purchases_cents, returns_cents, return_count, monetary_cents, return_rate, extra_features, updated_at) VALUES\n${rows.join(",\n")};`,
    );
    rows = [];
  };
  const flushFile = async () => {
    flushInsert();
    if (!statements.length) return;
    const path = join(tmpDir, `customers-${written}.sql`);
    writeFileSync(path, statements.join("\n"));
    statements = [];
    await d1(["--file", path]);
    rmSync(path);
  };
  for (const page of generatedCustomerPages(CUSTOMERS, 99)) {
    for (const c of page) {
      const returns = Math.round(c.returnRate * c.frequency);
      rows.push(
        `(${sqlString(projectId)}, ${sqlString(c.customerId)}, ${c.firstPurchaseAt ?? "NULL"}, ${c.lastPurchaseAt ?? "NULL"}, ${c.lastTransactionAt}, ${c.frequency}, ${c.purchaseDays}, ` +
          `${Math.max(0, c.monetaryCents)}, ${Math.max(0, -c.monetaryCents)}, ${returns}, ${c.monetaryCents}, ${c.returnRate}, ${sqlString(c.extraFeatures && JSON.stringify(c.extraFeatures))}, ${now})`,
      );
      if (rows.length === ROWS_PER_INSERT) flushInsert();
      if (++written % ROWS_PER_FILE === 0) await flushFile();
    }
  }
  await flushFile();
  await d1(["--command", `UPDATE projects SET name = ${sqlString(PROJECT_NAME)} WHERE id = ${sqlString(projectId)}`]);
  console.log(`  seeded      ${fmt(written)} customers in ${secs(Date.now() - started)}`);
  return projectId;
}

async function main() {
  printMachine();
  console.log("Preparing local D1 (migrate + seed demo data)...");
  const credentials = setUpLocal({ quiet: true });
  let projectId = null;
  for (const p of await d1Rows(`SELECT id, name FROM projects WHERE organization_id = ${sqlString(credentials.organizationId)} AND name LIKE ${sqlString(`${PROJECT_NAME}%`)}`)) {
    const [{ n }] = await d1Rows(`SELECT COUNT(*) AS n FROM customers WHERE project_id = ${sqlString(p.id)}`);
    if (!projectId && p.name === PROJECT_NAME && n === CUSTOMERS) {
      projectId = p.id;
      console.log(`Reusing bench project ${p.id} (${fmt(n)} customers) from an earlier run`);
      continue;
    }
    console.log(`Dropping incomplete bench project ${p.id}`);
    await d1(["--command", ["customers", "segments", "jobs", "segment_membership_snapshots", "segment_daily_sizes", "segment_overlaps"].map((t) => `DELETE FROM ${t} WHERE project_id = ${sqlString(p.id)};`).join(" ") + ` DELETE FROM projects WHERE id = ${sqlString(p.id)};`]);
  }
  if (!projectId) {
    console.log(`Seeding a project of ${fmt(CUSTOMERS)} customers:`);
    projectId = await seed(credentials.organizationId);
  }

  try {
    // Customers to ask /similar about: the API's ids are random UUIDs, so the first by id are a random sample.
    const customers = (await d1Rows(`SELECT id FROM customers WHERE project_id = ${sqlString(projectId)} ORDER BY id LIMIT ${SIMILAR_REQUESTS + 1}`)).map((r) => r.id);
    // Every embedding written anew by the run, as in a project's first run (a rerun on unchanged data
    // writes the same embeddings, and its index, still current, is not built again).
    await d1(["--command", `UPDATE customers SET embedding = NULL WHERE project_id = ${sqlString(projectId)}`]);
    console.log(`Embeddings cleared (projects.embeddings_version ${await embeddingsVersion(projectId)})`);
    server = await startWrangler({ onLine });
    let session = await signIn(credentials);
    console.log(`Model run on ${fmt(CUSTOMERS)} customers through the API:`);
    const started = Date.now();
    const accepted = await call("POST", `/api/engine/projects/${projectId}/segmentation`, { token: session, expected: 202 });
    let status;
    let last = "";
    let lastAt = started;
    for (;;) {
      // The live progress (the job's Durable Object): D1's job row is written at milestones only.
      status = await call("GET", `/api/engine/jobs/${accepted.job_id}/progress`, { token: session });
      const phase = `${status.status} ${status.pct}% ${status.message}`;
      if (phase.replace(/\d[\d,]*/g, "#") !== last.replace(/\d[\d,]*/g, "#")) {
        console.log(`  ${secs(Date.now() - started).padStart(8)}  ${phase}`);
        lastAt = Date.now();
      }
      last = phase;
      if (status.status === "completed" || status.status === "failed") break;
      if (Date.now() - started > JOB_TIMEOUT_MS) throw new Error(`job ${accepted.job_id} still ${phase} after ${JOB_TIMEOUT_MS / 1000} s`);
      await sleep(200);
    }
    const total = Date.now() - started;
    status = await call("GET", `/api/engine/jobs/${accepted.job_id}/status`, { token: session });
    if (status.status !== "completed") throw new Error(`the run failed: ${status.error_message}`);
    const r = status.result;
    console.log(`  ${secs(total).padStart(8)}  completed (last phase change ${secs(lastAt - started)})`);
    console.log(`  k ${r.k}: ${r.segments.map((s) => `${s.label} ${fmt(s.size)}`).join(", ")}; BG/NBD r ${r.churn_model?.r}, alpha ${r.churn_model?.alpha}, a ${r.churn_model?.a}, b ${r.churn_model?.b}`);

    console.log(`Similar customers (limit 10) on the same project:`);
    const first = await similar(session, customers[0]);
    const firstIndex = await readyAfter(0);
    const build = builds[0];
    console.log(`  first request after the run   ${ms(first.ms)} (the index, built by the run's warm-up: ${firstIndex})`);
    const warm = await similarRun(session, customers.slice(1));
    console.log(`  warm, ${warm.runs.length} requests            p50 ${ms(warm.p50)}, p95 ${ms(warm.p95)}, max ${ms(warm.max)}`);
    console.log(`  memory the index holds        ${fmt((build?.bytes ?? 0) / 1024 ** 2, 1)} MB (typed arrays: vectors as int32, norms, ids as UTF-8)`);

    await stopWrangler();
    server = await startWrangler({ onLine });
    session = await signIn(credentials);
    let mark = builds.length;
    const evicted = await similar(session, customers[0]);
    console.log(`  first request, evicted index  ${ms(evicted.ms)} (from ${await readyAfter(mark)})`);

    await stopWrangler();
    await d1(["--command", `UPDATE projects SET embeddings_version = embeddings_version + 1 WHERE id = ${sqlString(projectId)}`]);
    console.log(`  (projects.embeddings_version moved to ${await embeddingsVersion(projectId)})`);
    server = await startWrangler({ onLine });
    session = await signIn(credentials);
    mark = builds.length;
    const stale = await similar(session, customers[0]);
    console.log(`  first request, stale index    ${ms(stale.ms)} (from ${await readyAfter(mark)})`);

    await stopWrangler();
    server = await startWrangler({ vars: { VECTOR_STORE: "d1-scan" } });
    session = await signIn(credentials);
    const scan = await similarRun(session, customers.slice(0, SCAN_REQUESTS));
    const reference = [first, ...warm.runs].slice(0, SCAN_REQUESTS);
    const equal = scan.runs.every((run, i) => run.answer === reference[i].answer);
    console.log(`  D1 scan (before), ${scan.runs.length} requests    p50 ${ms(scan.p50)}, p95 ${ms(scan.p95)}, max ${ms(scan.max)}; answers equal to the index's: ${equal ? "yes" : "NO"}`);
    console.log(`Summary: a model run of ${fmt(r.customers)} customers took ${secs(total)} from request to completed on the local wrangler dev (D1 included)`);
    console.log(
      `Summary: /similar at ${fmt(r.customers)} customers: first after the run ${ms(first.ms)}, warm p95 ${ms(warm.p95)} (${fmt(scan.p50 / warm.p50, 1)}x faster than the D1 scan's p50 ${ms(scan.p50)}), index ${fmt((build?.bytes ?? 0) / 1024 ** 2, 1)} MB`,
    );
    if (!equal) throw new Error("the index and the D1 scan answered differently");
  } finally {
    await stopWrangler();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
