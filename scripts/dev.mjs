// `npm run dev [-- wrangler dev options]`: migrate and seed the local D1, run `wrangler dev` with
// whatever options were passed (e.g. `-- --port 8788`), and print the demo credentials once the
// server is ready, last, so they do not scroll away.
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

// Migrations are applied quietly (wrangler prints its table of every migration twice); their
// output is shown only when they fail.
const credentials = setUpLocal({ quiet: true });
console.log(`Local D1 migrated and demo data seeded (${credentials.migrationsApplied} new migration(s) applied).`);

const child = spawn(
  join(root, "node_modules", ".bin", "wrangler"),
  [
    "dev",
    ...(portIndex === -1 ? ["--port", port] : []),
    // Browser apps on any localhost port may call the local API (production lists its origins).
    "--var",
    "CORS_ALLOWED_ORIGINS:http://localhost:*,http://127.0.0.1:*",
    "--show-interactive-dev-session=false",
    ...args,
  ],
  {
    cwd: root,
    stdio: ["inherit", "pipe", "pipe"],
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      // wrangler fetches a sample `request.cf` from workers.cloudflare.com at start; offline that
      // prints ENOTFOUND twice. Requests get a placeholder `cf` object either way.
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
    },
  },
);

// wrangler prints the bindings table again after each (re)start; one copy is enough.
let bindingsShown = false;
let inBindings = false;
let ready = false;
function relay(stream, out) {
  let pending = "";
  stream.on("data", (chunk) => {
    pending += chunk.toString();
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (line.startsWith("Your Worker has access to the following bindings")) {
        inBindings = bindingsShown;
        bindingsShown = true;
      }
      if (!inBindings) out.write(`${line}\n`);
      if (inBindings && line.trim() === "") inBindings = false;
      if (!ready && line.includes("Ready on")) {
        ready = true;
        printDemo(credentials, `http://${host}:${port}`);
      }
    }
  });
}
relay(child.stdout, process.stdout);
relay(child.stderr, process.stderr);

for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
