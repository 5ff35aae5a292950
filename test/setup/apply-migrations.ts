import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Idempotent: D1 records which migrations ran, so every test file may call it.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
