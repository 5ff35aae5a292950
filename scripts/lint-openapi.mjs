// `npm run lint:openapi`: serves the Worker locally, fetches the OpenAPI document it generates, and
// lints it with Redocly's recommended rules (redocly.yaml). CI runs it; exits non-zero on any error.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { root, startWrangler, stopWrangler } from "../bench/lib/server.mjs";

let status = 0;
try {
  const { baseUrl } = await startWrangler();
  const response = await fetch(`${baseUrl}/openapi.json`);
  if (!response.ok) throw new Error(`GET /openapi.json answered ${response.status}`);
  const file = join(root, ".wrangler", "openapi.json");
  mkdirSync(join(root, ".wrangler"), { recursive: true });
  writeFileSync(file, JSON.stringify(await response.json(), null, 2));
  await stopWrangler();
  execFileSync(join(root, "node_modules", ".bin", "redocly"), ["lint", file, "--config", join(root, "redocly.yaml")], { stdio: "inherit", cwd: root });
} catch (error) {
  console.error(error.message);
  status = 1;
} finally {
  await stopWrangler();
}
process.exit(status);
