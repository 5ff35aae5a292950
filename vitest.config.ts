import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { readFileSync } from "node:fs";
import { defineConfig, type ViteUserConfig } from "vitest/config";

export default defineConfig(async (): Promise<ViteUserConfig> => {
  const migrations = await readD1Migrations("./migrations");
  // The CDNOW sample (a copy of shared/data/cdnow/CDNOW_sample.txt) for the BG/NBD check against the
  // published parameters; workerd cannot read files, so the test gets it as a binding.
  const cdnowSample = readFileSync(new URL("./test/fixtures/CDNOW_sample.txt", import.meta.url), "utf8");
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            TEST_CDNOW_SAMPLE: cdnowSample,
            JWT_SECRET: "test-secret-that-is-at-least-32-characters-long",
            CONNECTOR_ENCRYPTION_KEYS: "2:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f,1:ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100",
            // Tests share one anonymous bucket; the limiter itself is tested with small limits.
            RATE_LIMIT_MAX: "1000000",
            // Segmentation runs right after ingest instead of waiting for a burst to coalesce.
            SEGMENTATION_DELAY_SECONDS: "0",
            METER_FLUSH_MS: "0",
            CORS_ALLOWED_ORIGINS: "https://app.example.com, http://localhost:*",
            // SSE keep-alive comments every second, so a test can see one.
            SSE_HEARTBEAT_SECONDS: "1",
            // Webhook hosts resolve through a fake DoH resolver inside workerd (test/setup/fake-dns.ts).
            OUTBOUND_DNS_RESOLVER: "https://doh.test/dns-query",
          },
        },
      }),
    ],
    test: {
      setupFiles: ["./test/setup/apply-migrations.ts", "./test/setup/fake-dns.ts"],
      // Many tests drive an upload or a model run end to end through real queues; on a busy 2-core
      // machine one of those took over vitest's 5 s default (uploads.test.ts). A test that only
      // needs a consumer drives it directly (createMessageBatch) and stays far below this budget.
      testTimeout: 30_000,
      hookTimeout: 60_000,
      reporters: ["default", ["json", { outputFile: "test-results.json" }]],
    },
  };
});
