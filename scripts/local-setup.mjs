// Prepares the local environment `wrangler dev` runs on: a JWT secret in .dev.vars, the local D1
// migrated, and a demo user, organization (Pro plan), project and API key seeded idempotently.
// Used by `npm run dev` and by the benchmark. Runs under the Node that npm puts first on PATH.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHash, pbkdf2Sync, randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = join(root, "node_modules", ".bin", "wrangler");
const credentialsFile = join(root, ".wrangler", "demo-credentials.json");

export const demo = {
  userId: "00000000-0000-4000-8000-000000000001",
  email: "demo@segmento.local",
  password: "demo-password",
  name: "Demo User",
  organizationId: "org_01JDEMO000000000000000000A",
  organizationSlug: "demo",
  projectId: "proj_01JDEMO000000000000000000A",
  apiKeyId: "00000000-0000-4000-8000-000000000002",
};

function run(args, options = {}) {
  return execFileSync(wrangler, args, {
    cwd: root,
    stdio: options.quiet ? ["ignore", "pipe", "pipe"] : ["ignore", "inherit", "inherit"],
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", ...options.env },
    encoding: "utf8",
  });
}

/** Local secrets, each written once: the JWT secret and the key that seals connector secrets. */
function ensureDevVars() {
  const path = join(root, ".dev.vars");
  const wanted = {
    JWT_SECRET: () => randomBytes(32).toString("hex"),
    CONNECTOR_ENCRYPTION_KEYS: () => `1:${randomBytes(32).toString("hex")}`,
  };
  let current = existsSync(path) ? readFileSync(path, "utf8") : "";
  for (const [name, make] of Object.entries(wanted)) {
    if (new RegExp(`^${name}=`, "m").test(current)) continue;
    current = `${current}${current && !current.endsWith("\n") ? "\n" : ""}${name}=${make()}\n`;
  }
  writeFileSync(path, current);
}

/** Same format as src/lib/password.ts: pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>. */
function hashPassword(password) {
  const salt = randomBytes(16);
  const hash = pbkdf2Sync(password, salt, 100_000, 32, "sha256");
  return `pbkdf2-sha256$100000$${salt.toString("base64")}$${hash.toString("base64")}`;
}

/** The demo key survives restarts in .wrangler/ (ignored by git) so it can be printed again. */
function demoApiKey() {
  if (existsSync(credentialsFile)) return JSON.parse(readFileSync(credentialsFile, "utf8")).apiKey;
  const apiKey = `sk_live_${randomBytes(32).toString("hex")}`;
  mkdirSync(dirname(credentialsFile), { recursive: true });
  writeFileSync(credentialsFile, JSON.stringify({ apiKey }, null, 2));
  return apiKey;
}

const sqlString = (value) => `'${String(value).replaceAll("'", "''")}'`;

function seedSql(apiKey) {
  const now = Date.now();
  const keyHash = createHash("sha256").update(apiKey).digest("hex");
  return `
INSERT OR IGNORE INTO users (id, name, email, password_hash, created_at)
  VALUES (${sqlString(demo.userId)}, ${sqlString(demo.name)}, ${sqlString(demo.email)}, ${sqlString(hashPassword(demo.password))}, ${now});
INSERT OR IGNORE INTO organizations (id, name, slug, plan, created_at)
  VALUES (${sqlString(demo.organizationId)}, 'Demo Organization', ${sqlString(demo.organizationSlug)}, 'pro', ${now});
UPDATE organizations SET plan = 'pro' WHERE id = ${sqlString(demo.organizationId)};
INSERT OR IGNORE INTO members (organization_id, user_id, role, created_at)
  VALUES (${sqlString(demo.organizationId)}, ${sqlString(demo.userId)}, 'owner', ${now});
INSERT OR IGNORE INTO projects (id, organization_id, name, created_at, updated_at)
  VALUES (${sqlString(demo.projectId)}, ${sqlString(demo.organizationId)}, 'Demo Project', ${now}, ${now});
INSERT INTO api_keys (id, project_id, name, key_prefix, key_hash, enabled, expires_at, last_used_at, created_at)
  VALUES (${sqlString(demo.apiKeyId)}, ${sqlString(demo.projectId)}, 'Demo key', ${sqlString(apiKey.slice(0, 14))}, ${sqlString(keyHash)}, 1, NULL, NULL, ${now})
  ON CONFLICT (id) DO UPDATE SET key_prefix = excluded.key_prefix, key_hash = excluded.key_hash, enabled = 1, expires_at = NULL;
`;
}

/** Applies the local D1 migrations; quiet runs show wrangler's output only when it fails. Returns how many were new. */
function migrateLocal(quiet) {
  try {
    const output = run(["d1", "migrations", "apply", "DB", "--local"], { quiet }) ?? "";
    // wrangler redraws its table after each migration; the last drawing has one ✅ per migration applied.
    if (/No migrations to apply/.test(output)) return 0;
    const lastTable = output.split("┌").at(-1) ?? "";
    return (lastTable.match(/✅/g) ?? []).length;
  } catch (error) {
    if (quiet) process.stderr.write(`${error.stdout ?? ""}${error.stderr ?? ""}`);
    throw error;
  }
}

export function setUpLocal({ quiet = false } = {}) {
  ensureDevVars();
  const migrationsApplied = migrateLocal(quiet);
  const apiKey = demoApiKey();
  const seedFile = join(root, ".wrangler", "demo-seed.sql");
  writeFileSync(seedFile, seedSql(apiKey));
  run(["d1", "execute", "DB", "--local", "--file", seedFile], { quiet: true });
  return { ...demo, apiKey, migrationsApplied };
}

export function printDemo(credentials, baseUrl) {
  const lines = [
    "",
    "Segmento Edge is ready, with demo data (local D1, seeded idempotently):",
    `  user          ${credentials.email} / ${credentials.password}`,
    `  organization  ${credentials.organizationId} (plan: pro)`,
    `  project       ${credentials.projectId}`,
    `  API key       ${credentials.apiKey}`,
    "",
    "Try:",
    `  curl ${baseUrl}/health`,
    `  curl -H "Authorization: Bearer ${credentials.apiKey}" ${baseUrl}/api/projects/${credentials.projectId}`,
    `  curl -X POST ${baseUrl}/api/auth/sign-in/email -H 'Content-Type: application/json' \\`,
    `       -d '{"email":"${credentials.email}","password":"${credentials.password}"}'`,
    `  open ${baseUrl}/docs for the interactive reference (${baseUrl}/openapi.json for the document)`,
    "",
  ];
  console.log(lines.join("\n"));
}
