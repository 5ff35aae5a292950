// The reference `npm run bench` compares against: a Hono Worker answering GET /health and nothing else,
// served by the same `wrangler dev` as the project, so the ratio shows what the project's own work costs.
import { Hono } from "hono";

const app = new Hono();
app.get("/health", (c) => c.json({ status: "ok", time: new Date().toISOString() }));

export default app;
