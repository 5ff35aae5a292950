// Shared by the benchmarks in bench/: machine info, and a local `wrangler dev` started on a free port,
// waited for (GET /health), and always stopped again (its whole process group), however the run ends.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { cpus, totalmem, platform, release, arch, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const wrangler = join(root, "node_modules", ".bin", "wrangler");

const STARTUP_TIMEOUT_MS = 90_000;
const LOG_LINES_KEPT = 200;

// wrangler's bin is `#!/usr/bin/env node` and needs Node >= 22: put the Node running this script
// first on PATH, so wrangler (ours and setUpLocal's) works even when a bench file is run directly.
process.env.PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ""}`;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const fmt = (n, digits = 0) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A positive integer from the environment, or the fallback when unset. */
export function positiveInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

export function printMachine() {
  const cpuList = cpus();
  console.log("Machine");
  console.log(`  CPU     ${cpuList[0]?.model?.trim() ?? "unknown"} x ${cpuList.length}`);
  console.log(`  memory  ${(totalmem() / 1024 ** 3).toFixed(1)} GiB`);
  console.log(`  OS      ${platform()} ${release()} (${arch()})`);
  console.log(`  node    ${process.version}`);
  // Other work on a small machine shows up as noise in the numbers below.
  console.log(`  load    ${loadavg().map((n) => n.toFixed(2)).join(" ")} (1/5/15 min)`);
  console.log("");
}

/** Asks the OS for a free port (a tiny race until wrangler binds it, acceptable for a local bench). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * `wrangler dev` in its own process group (detached): wrangler re-spawns itself and starts workerd,
 * so only killing the whole group leaves nothing behind. Output is kept (last ~200 lines) to show
 * when startup fails; `onLine` sees every line as it arrives (with the time it arrived).
 */
function spawnWrangler(port, inspectorPort, { onLine, config, vars = {} }) {
  const args = ["dev", "--port", String(port), "--inspector-port", String(inspectorPort), "--ip", "127.0.0.1"];
  if (config) args.push("--config", config);
  else args.push("--var", "RATE_LIMIT_MAX:1000000000");
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  args.push("--show-interactive-dev-session=false");
  const child = spawn(wrangler, args, {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  const handle = { child, log: [], reloads: 0 };
  const keep = (chunk) => {
    const at = Date.now();
    const lines = chunk.toString().split("\n").filter(Boolean);
    // wrangler dev rebuilds when src/ changes; a rebuild during a measurement skews it, so count them.
    handle.reloads += lines.filter((line) => /Reloading local server|Detected changes/.test(line)).length;
    handle.log.push(...lines);
    if (handle.log.length > LOG_LINES_KEPT) handle.log.splice(0, handle.log.length - LOG_LINES_KEPT);
    if (onLine) for (const line of lines) onLine(line, at);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  handle.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  child.once("error", (error) => handle.log.push(`spawn error: ${error.message}`));
  return handle;
}

const running = new Set(); // the wrangler dev handles, for cleanup from anywhere

function killGroup(handle, signal) {
  if (handle.child.exitCode !== null || handle.child.signalCode !== null) return;
  try {
    process.kill(-handle.child.pid, signal);
  } catch (error) {
    if (error.code !== "ESRCH") throw error; // already gone
  }
}

/**
 * SIGTERM the group, SIGKILL it if it is still there after 5 s. Without a handle, stops every server
 * started here. Safe to call when nothing runs.
 */
export async function stopWrangler(handle) {
  const handles = handle ? [handle] : [...running];
  await Promise.all(
    handles.map(async (one) => {
      if (!running.has(one)) return;
      killGroup(one, "SIGTERM");
      const timedOut = await Promise.race([one.exited.then(() => false), sleep(5_000).then(() => true)]);
      if (timedOut) killGroup(one, "SIGKILL");
      // workerd may outlive the wrangler parent; make sure the rest of the group is gone too.
      try {
        process.kill(-one.child.pid, "SIGKILL");
      } catch {}
      running.delete(one);
    }),
  );
}

// Last resort: never leave a wrangler/workerd behind, whatever way this process ends.
process.on("exit", () => {
  for (const handle of running) {
    try {
      process.kill(-handle.child.pid, "SIGKILL");
    } catch {}
  }
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    console.error(`\nReceived ${signal}, stopping wrangler dev...`);
    stopWrangler().finally(() => process.exit(130));
  });
}

/** Polls GET /health until it answers 200; fails early if wrangler exits, or after the timeout. */
async function waitForHealth(handle, baseUrl) {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let exited = null;
  handle.exited.then((result) => (exited = result));
  let lastProblem = "no answer yet";
  while (Date.now() < deadline) {
    if (exited) throw new Error(`wrangler dev exited (code ${exited.code}, signal ${exited.signal}) before /health answered`);
    try {
      const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
      lastProblem = `status ${response.status}`;
    } catch (error) {
      lastProblem = error.cause?.code ?? error.message;
    }
    await sleep(250);
  }
  throw new Error(`wrangler dev did not answer GET /health with 200 within ${STARTUP_TIMEOUT_MS / 1000} s (last: ${lastProblem})`);
}

/**
 * Starts `wrangler dev` on free ports and waits until GET /health answers. By default it serves the
 * project with the rate limit lifted (RATE_LIMIT_MAX=1000000000) and any other `vars` set; `config`
 * serves another Worker (a wrangler config path relative to the repo root) as it is. Returns
 * { baseUrl, handle }: `handle.reloads` counts rebuilds, `handle.log` keeps the last lines of output.
 * On failure the output is appended to the error. Stop it with stopWrangler(handle), or every server
 * with stopWrangler().
 */
export async function startWrangler({ onLine, config, vars = {} } = {}) {
  const port = await freePort();
  const inspectorPort = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  console.log(`Starting wrangler dev${config ? ` --config ${config}` : ""} on ${baseUrl}${config ? "" : " (RATE_LIMIT_MAX=1000000000)"}...`);
  const handle = spawnWrangler(port, inspectorPort, { onLine, config, vars });
  running.add(handle);
  try {
    await waitForHealth(handle, baseUrl);
  } catch (error) {
    error.message += `\n--- wrangler dev output (last lines) ---\n${handle.log.join("\n")}`;
    throw error;
  }
  return { baseUrl, handle };
}
