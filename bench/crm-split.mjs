// `npm run bench:crm-split`: CRM analytics on a generated project of 5,000,000 purchase lines (500,000
// customers), more than one PurchaseHistory object holds (1.5M lines): the first request splits the
// project by customer into parts of ~1M lines, each part reads its range of the covering index, and
// the answers are added up. Prints the first request (plan + every part's cold read from D1), the next
// ones (from memory) and checks the answer against SQL over the same rows (customers, orders, revenue
// must be exact).
//
// Data: generated inside the local D1 by recursive CTEs (deterministic: line i belongs to customer
// i·7919 mod 500,000, day, amount and order derived from i), in 10 statements of 500,000 rows, into a
// project of the demo organization, dropped at the end (so the organization's warehouse, which
// bench:analytics measures, is not grown by it); BENCH_KEEP=1 keeps it for the next run.
//
// Exits non-zero if the run fails (a request fails, an answer is not exact), not if it is slow.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { setUpLocal } from "../scripts/local-setup.mjs";
import { fmt, printMachine, root, startWrangler, stopWrangler, wrangler } from "./lib/server.mjs";
import { apiClient, runBench } from "./lib/api.mjs";

const LINES = 5_000_000;
const CUSTOMERS = 500_000;
const STEP = 500_000;
const PROJECT_NAME = "bench crm split 500k customers / 5M purchase lines";
const PROJECT_ID = "proj_BENCHCRMSPLIT5M0000000000";
const FILE_ID = "00000000-0000-4000-8000-00000000c5c5";

let server;
const { call, signIn } = apiClient(() => server.baseUrl, 900_000);

async function d1(sql) {
  const { stdout } = await promisify(execFile)(wrangler, ["d1", "execute", "DB", "--local", "--json", "--command", sql], {
    cwd: root,
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
    timeout: 1_800_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout).map((r) => r.results ?? []);
}

async function seed(organizationId) {
  const now = Date.now();
  await d1(`DELETE FROM transactions WHERE project_id = '${PROJECT_ID}'; DELETE FROM files WHERE project_id = '${PROJECT_ID}'; DELETE FROM projects WHERE id = '${PROJECT_ID}';
INSERT INTO projects (id, organization_id, name, created_at, updated_at) VALUES ('${PROJECT_ID}', '${organizationId}', '${PROJECT_NAME}', ${now}, ${now});
INSERT INTO files (id, project_id, organization_id, source, format, filename, r2_key, size_bytes, row_count, rows_accepted, rows_rejected, status, created_at, updated_at)
  VALUES ('${FILE_ID}', '${PROJECT_ID}', '${organizationId}', 'upload', 'csv', 'crm-split-5m.csv', 'projects/${PROJECT_ID}/files/${FILE_ID}/crm-split-5m.csv', 0, ${LINES}, ${LINES}, 0, 'completed', ${now}, ${now});`);
  for (let from = 1; from <= LINES; from += STEP) {
    const t0 = Date.now();
    await d1(`WITH RECURSIVE n(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM n WHERE i < ${from + STEP - 1})
INSERT INTO transactions (file_id, row_number, project_id, customer_id, order_id, ordered_at, order_day, amount_cents, currency, quantity, is_return, extra)
SELECT '${FILE_ID}', i, '${PROJECT_ID}', printf('G-%06d', (i * 7919) % ${CUSTOMERS}), 'o-' || i,
  (unixepoch('2024-01-01') + ((i * 31) % 700) * 86400) * 1000, date('2024-01-01', '+' || ((i * 31) % 700) || ' days'),
  100 + (i * 37) % 10000, 'EUR', 1, 0, json_object('country', CASE i % 3 WHEN 0 THEN 'TR' WHEN 1 THEN 'DE' ELSE 'US' END)
FROM n`);
    console.log(`  rows ${fmt(from)}..${fmt(from + STEP - 1)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

async function main() {
  printMachine();
  const credentials = setUpLocal({ quiet: true });
  const [[found]] = await d1(`SELECT COUNT(*) AS n FROM transactions WHERE project_id = '${PROJECT_ID}'`);
  if (found.n !== LINES || process.env.BENCH_RESEED === "1") {
    console.log(`Generating ${fmt(LINES)} purchase lines of ${fmt(CUSTOMERS)} customers in project ${PROJECT_ID}...`);
    await seed(credentials.organizationId);
  } else console.log(`Reusing project ${PROJECT_ID} (${fmt(LINES)} purchase lines)`);
  // The reference, from SQL over the same rows; and the version moved on so every object reads from D1.
  const [[expected]] = await d1(`SELECT COUNT(DISTINCT customer_id) AS customers, COUNT(*) AS orders, SUM(amount_cents) AS revenue FROM transactions WHERE project_id = '${PROJECT_ID}' AND is_return = 0`);
  await d1(`UPDATE projects SET purchases_version = purchases_version + 1 WHERE id = '${PROJECT_ID}'`);
  let split = null;
  server = await startWrangler({ onLine: (line) => line.includes("purchase history split") && (split = line.slice(line.indexOf("{"))) });
  const session = await signIn(credentials);
  const key = await call("POST", `/api/projects/${PROJECT_ID}/api-keys`, { token: session, json: { name: "bench crm split" }, expected: 201 });
  const timed = async (path) => {
    const t0 = performance.now();
    const body = await call("GET", `/api/crm/analytics/${path}`, { token: key.key });
    return { ms: performance.now() - t0, data: body.data };
  };
  try {
    const first = await timed("activity?grouping_interval=overall");
    const row = first.data[0];
    const exact = row.active_customers === expected.customers && row.orders === expected.orders && row.revenue_cents === expected.revenue;
    console.log(`\nFirst request (plan the split, every part reads its customers from D1): ${(first.ms / 1000).toFixed(1)} s; ${split ?? "no split logged"}`);
    console.log(`  answer: ${fmt(row.active_customers)} customers, ${fmt(row.orders)} orders, ${fmt(row.revenue_cents)} cents; SQL: ${fmt(expected.customers)}, ${fmt(expected.orders)}, ${fmt(expected.revenue)} -> ${exact ? "exact" : "NOT EXACT"}`);
    if (!exact) throw new Error("the split answer differs from SQL");
    for (const path of ["activity?grouping_interval=overall", "activity?grouping_interval=month&group_by=country", "user_cohorts?user_type=new", "user_lifecycles"]) {
      const again = await timed(path);
      console.log(`  ${path}: ${again.ms.toFixed(0)} ms (${again.data.length} rows)`);
    }
  } finally {
    await call("DELETE", `/api/projects/${PROJECT_ID}/api-keys/${key.id}`, { token: session, expected: 204 }).catch(() => undefined);
    await stopWrangler();
    if (process.env.BENCH_KEEP !== "1") {
      await d1(`DELETE FROM transactions WHERE project_id = '${PROJECT_ID}'; DELETE FROM files WHERE project_id = '${PROJECT_ID}'; DELETE FROM projects WHERE id = '${PROJECT_ID}';`);
    }
  }
}

await runBench(main);
