import type { Hono } from "hono";

/**
 * Which methods a path would have answered to, so a wrong method gets 405 with `Allow` rather than a
 * bare 404. Built once from the app's registered routes.
 */
export function methodNotAllowed(app: Hono<any, any, any>) {
  let patterns: Array<{ method: string; regex: RegExp }> | undefined;
  return (method: string, path: string): string[] => {
    patterns ??= app.routes
      .filter((route) => route.method !== "ALL")
      .map((route) => ({
        method: route.method,
        regex: new RegExp(`^${route.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\/:[^/]+/g, "/[^/]+").replace(/\*/g, ".*")}/?$`),
      }));
    const allowed = new Set(patterns.filter((p) => p.regex.test(path)).map((p) => p.method));
    if (allowed.has(method) || allowed.size === 0) return [];
    return [...allowed].sort();
  };
}
