import { defineConfig } from "drizzle-kit";

// `npx drizzle-kit generate` writes SQL into migrations/, which wrangler applies (`npm run db:migrate:local`).
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema/index.ts",
  out: "./migrations",
});
