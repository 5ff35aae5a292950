// `npm run dev [-- wrangler dev options]`: migrate and seed the local D1, print the demo credentials,
// then run `wrangler dev` with whatever options were passed (e.g. `-- --port 8788`).
import { spawn } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { printDemo, setUpLocal } from "./local-setup.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const portIndex = args.findIndex((arg) => arg === "--port" || arg.startsWith("--port="));
const port = portIndex === -1 ? "8787" : args[portIndex].includes("=") ? args[portIndex].split("=")[1] : args[portIndex + 1];
const ipIndex = args.findIndex((arg) => arg === "--ip" || arg.startsWith("--ip="));
const host = ipIndex === -1 ? "localhost" : args[ipIndex].includes("=") ? args[ipIndex].split("=")[1] : args[ipIndex + 1];

const credentials = setUpLocal();
printDemo(credentials, `http://${host}:${port}`);

const child = spawn(join(root, "node_modules", ".bin", "wrangler"), ["dev", ...(portIndex === -1 ? ["--port", port] : []), ...args], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
