// `npm run bench:activations`: an automation run delivering a 50,000-member segment to a webhook
// receiver on 127.0.0.1 that fails 10% of requests with 500 and 5% with 429 (Retry-After: 1), on a
// local `wrangler dev` (OUTBOUND_ALLOW_LOOPBACK=true, as only local runs may have it).
//
// Measured: the time from POST /api/automations/:id/run to its job `completed` (polled every 100 ms),
// split by the run's own timestamps into planning and delivery; requests, failures and retries seen by
// the receiver. Checked: every treated member received (in a 200-answered request) exactly once, none of
// the holdout (recomputed here from the documented hash), and every request's signature.
//
//   BENCH_MEMBERS=50000   segment size
//   BENCH_JOB_TIMEOUT=300 seconds to wait for one job
//
// Exits non-zero if the run fails or a check fails, not if the target is missed.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { setUpLocal } from "../scripts/local-setup.mjs";
import { fmt, freePort, positiveInt, printMachine, sleep, startWrangler } from "./lib/server.mjs";
import { apiClient, runBench } from "./lib/api.mjs";
import { random } from "./lib/random.mjs";

const TARGET_SECONDS = 30;
const HOLDOUT_PCT = 10;
const SIGNING_SECRET = "bench-signing-secret-0123456789";
const INGEST_BATCH = 10_000;
const POLL_MS = 100;

let server;
const { call, signIn } = apiClient(() => server.baseUrl, 120_000);

/** The receiver: fails 10% with 500 and 5% with 429, verifies signatures, counts members per 200. */
function startReceiver(port) {
  const rng = random(7);
  const stats = { requests: 0, failed500: 0, failed429: 0, accepted: 0, badSignature: 0, received: new Map(), keys: new Map(), firstAt: null, lastAt: null };
  const http = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      stats.requests++;
      stats.firstAt ??= Date.now();
      stats.lastAt = Date.now();
      const timestamp = req.headers["segmento-timestamp"];
      const expected = `v1=${createHmac("sha256", SIGNING_SECRET).update(`${timestamp}.${raw}`).digest("hex")}`;
      const given = String(req.headers["segmento-signature"] ?? "");
      if (given.length !== expected.length || !timingSafeEqual(Buffer.from(given), Buffer.from(expected))) stats.badSignature++;
      const roll = rng();
      if (roll < 0.1) {
        stats.failed500++;
        res.writeHead(500).end("receiver error");
        return;
      }
      if (roll < 0.15) {
        stats.failed429++;
        res.writeHead(429, { "Retry-After": "1" }).end("slow down");
        return;
      }
      const body = JSON.parse(raw);
      stats.accepted++;
      const key = String(req.headers["idempotency-key"]);
      stats.keys.set(key, (stats.keys.get(key) ?? 0) + 1);
      for (const member of body.added) stats.received.set(member.customer_id, (stats.received.get(member.customer_id) ?? 0) + 1);
      res.writeHead(200).end("ok");
    });
  });
  return new Promise((resolve) => http.listen(port, "127.0.0.1", () => resolve({ http, stats })));
}

/** The documented holdout: the first 32 bits of SHA-256("<automationId>:<customerId>") over 2^32 below the share. */
const isHoldout = (automationId, customerId) => createHash("sha256").update(`${automationId}:${customerId}`).digest().readUInt32BE(0) / 2 ** 32 < HOLDOUT_PCT / 100;

async function waitForJob(token, jobId, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const job = await call("GET", `/api/engine/jobs/${jobId}/status`, { token });
    if (job.status === "completed" || job.status === "failed") return { job, seenAt: Date.now() };
    await sleep(POLL_MS);
  }
  throw new Error(`job ${jobId} did not finish within ${timeoutMs / 1000} s`);
}

async function main() {
  const members = positiveInt("BENCH_MEMBERS", 50_000);
  const jobTimeoutMs = positiveInt("BENCH_JOB_TIMEOUT", 300) * 1000;
  printMachine();
  const credentials = setUpLocal({ quiet: true });
  const receiverPort = await freePort();
  const { http, stats } = await startReceiver(receiverPort);
  try {
    // The Worker's errors are shown as they happen (a stuck run is otherwise silent).
    const onLine = (line) => /"level":"error"|Uncaught|exceeded/i.test(line) && console.error(`  [wrangler] ${line.slice(0, 300)}`);
    server = await startWrangler({ vars: { OUTBOUND_ALLOW_LOOPBACK: "true" }, onLine });
    const session = await signIn(credentials);
    const stamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const project = await call("POST", `/api/organizations/${credentials.organizationId}/projects`, { token: session, json: { name: `bench activations ${stamp}` }, expected: 201 });
    const key = await call("POST", `/api/projects/${project.id}/api-keys`, { token: session, json: { name: "bench activations" }, expected: 201 });

    console.log(`Ingesting ${fmt(members)} customers (one purchase each)...`);
    const ids = Array.from({ length: members }, (_, i) => `m${String(i).padStart(6, "0")}`);
    for (let i = 0; i < members; i += INGEST_BATCH) {
      const records = ids.slice(i, i + INGEST_BATCH).map((id, k) => ({ customer_id: id, order_date: "2025-03-01", amount: 10 + ((i + k) % 90), email: `${id}@example.com` }));
      const accepted = await call("POST", "/api/v1/ingest", { token: key.key, json: { project_id: project.id, records }, expected: 202 });
      const { job } = await waitForJob(key.key, accepted.job_id, jobTimeoutMs);
      if (job.status !== "completed") throw new Error(`ingest job failed: ${job.error_message}`);
    }
    const segment = await call("POST", `/api/engine/projects/${project.id}/segments`, { token: session, json: { name: "Everyone", rules: [{ field: "rfm_frequency", op: "gte", value: 1 }] }, expected: 201 });
    if (segment.size !== members) throw new Error(`segment has ${segment.size} members, expected ${members}`);
    const connector = await call("POST", `/api/projects/${project.id}/connectors`, {
      token: session,
      json: { type: "custom_webhook", name: "bench receiver", config: { url: `http://127.0.0.1:${receiverPort}/hook`, signingSecret: SIGNING_SECRET } },
      expected: 201,
    });
    const automation = await call("POST", `/api/projects/${project.id}/automations`, {
      token: session,
      json: { name: "bench", segment_id: segment.id, connector_id: connector.id, holdout_pct: HOLDOUT_PCT },
      expected: 201,
    });

    console.log("Running the automation...");
    const startedAt = Date.now();
    const accepted = await call("POST", `/api/automations/${automation.id}/run`, { token: session, expected: 202 });
    const { job, seenAt } = await waitForJob(session, accepted.job_id, jobTimeoutMs);
    const seconds = (seenAt - startedAt) / 1000;
    const { runs } = await call("GET", `/api/automations/${automation.id}/runs`, { token: session });
    const run = runs.find((r) => r.run_id === accepted.run_id);

    const treated = ids.filter((id) => !isHoldout(automation.id, id));
    const control = members - treated.length;
    const missing = treated.filter((id) => !stats.received.has(id)).length;
    const duplicates = [...stats.received.values()].filter((n) => n > 1).length;
    const heldOutSent = ids.filter((id) => isHoldout(automation.id, id) && stats.received.has(id)).length;
    const repeatedKeys = [...stats.keys.values()].filter((n) => n > 1).length;

    console.log("");
    console.log("Activation run (50,000-member segment to a local webhook failing 10% with 500, 5% with 429)");
    console.log(`  members              ${fmt(members)}  treated ${fmt(treated.length)}  held out ${fmt(control)} (${HOLDOUT_PCT}%)`);
    console.log(`  run status           ${run.status} (job ${job.status}); ${run.chunks} chunks; delivered ${fmt(run.delivered)}`);
    console.log(`  run → completed      ${seconds.toFixed(2)} s  (target < ${TARGET_SECONDS} s: ${seconds < TARGET_SECONDS ? "met" : "MISSED"})`);
    console.log(`    planning           ${((Date.parse(run.started_at) - Date.parse(run.created_at)) / 1000).toFixed(2)} s queue wait + plan start`);
    console.log(`    plan → finished    ${((Date.parse(run.finished_at) - Date.parse(run.started_at)) / 1000).toFixed(2)} s`);
    console.log(`  throughput           ${fmt(treated.length / seconds)} members/s`);
    console.log(`  receiver requests    ${fmt(stats.requests)}: ${fmt(stats.accepted)} accepted, ${fmt(stats.failed500)} answered 500, ${fmt(stats.failed429)} answered 429`);
    console.log(`  retries per chunk    ${(stats.requests / Math.max(1, run.chunks)).toFixed(2)} requests per chunk`);
    console.log(`  checks               missing ${missing}, received twice ${duplicates}, held-out sent ${heldOutSent}, chunks accepted twice ${repeatedKeys}, bad signatures ${stats.badSignature}`);
    const ok = job.status === "completed" && run.status === "success" && missing === 0 && duplicates === 0 && heldOutSent === 0 && stats.badSignature === 0;
    if (!ok) throw new Error("a delivery check failed (see above)");
  } finally {
    http.close();
  }
}

await runBench(main);
