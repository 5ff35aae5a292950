import { EXTRA_KEY } from "./customer-filters";
import type { AnalyticsScope } from "../analytics/scope";
import { storedSignalPaths, type SignalPath } from "../db/stored-json";


/**
 * The JSON paths seen in the scope's customers' extra_features, with the types observed and how many
 * customers have each, per project. Reading every customer's JSON takes ~200 ms per 100,000 customers
 * and grows with the keys, so each project's answer is kept (project_signals) for the
 * purchases_version it was computed at and computed again only when that moves.
 */
export async function signalsMetadata(d1: D1Database, scope: AnalyticsScope) {
  const { results: projects } = await d1
    .prepare(
      `SELECT p.id, p.purchases_version AS version, s.purchases_version AS cached_version, s.paths
       FROM projects p LEFT JOIN project_signals s ON s.project_id = p.id
       WHERE ${scope.projectId ? "p.id" : "p.organization_id"} = ? ORDER BY p.id`,
    )
    .bind(scope.projectId ?? scope.organizationId)
    .all<{ id: string; version: number; cached_version: number | null; paths: string | null }>();
  const data: Array<{ project_id: string } & SignalPath> = [];
  for (const p of projects) {
    const paths = p.cached_version === p.version && p.paths !== null ? storedSignalPaths(p.paths) : await computeSignals(d1, p.id, p.version);
    data.push(...paths.map((path) => ({ project_id: p.id, ...path })));
  }
  return data;
}

async function computeSignals(d1: D1Database, projectId: string, version: number): Promise<SignalPath[]> {
  const { results } = await d1
    .prepare(
      `SELECT j.fullkey AS path, j.type AS type, COUNT(*) AS customers
       FROM customers c, json_each(c.extra_features) j
       WHERE c.project_id = ? AND c.extra_features IS NOT NULL
       GROUP BY 1, 2 ORDER BY 1, 3 DESC`,
    )
    .bind(projectId)
    .all<{ path: string; type: string; customers: number }>();
  const byPath = new Map<string, SignalPath>();
  for (const r of results) {
    const entry = byPath.get(r.path) ?? byPath.set(r.path, { path: r.path, types: [] }).get(r.path)!;
    entry.types.push({ type: r.type, customers: r.customers });
  }
  const paths = [...byPath.values()];
  // Kept under the version read before computing: if the data moved meanwhile, the next call recomputes.
  await d1
    .prepare(
      `INSERT INTO project_signals (project_id, purchases_version, paths, computed_at) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (project_id) DO UPDATE SET purchases_version = excluded.purchases_version, paths = excluded.paths, computed_at = excluded.computed_at`,
    )
    .bind(projectId, version, JSON.stringify(paths), Date.now())
    .run();
  return paths;
}

/** A top-level extra_features key from a JSON path of json_each (`$.country`, `$."home city"`), or null. */
function topLevelKey(path: string): string | null {
  const m = /^\$\.(?:([A-Za-z0-9_]+)|"([^"]+)")$/.exec(path);
  return m ? (m[1] ?? m[2]!) : null;
}

/**
 * The project's top-level extra_features keys with their most common type and, when asked, up to five of
 * their most frequent values (what the copilot shows a model so it can spell values as the data does).
 */
export async function extraFeatureVocabulary(d1: D1Database, project: { id: string; organizationId: string }, withExamples: boolean) {
  const paths = await signalsMetadata(d1, { organizationId: project.organizationId, projectId: project.id });
  const keys = paths
    .map((p) => ({ key: topLevelKey(p.path), type: p.types[0]?.type ?? "null" }))
    // Only keys a rule can name (the rules schema's pattern), holding values a condition can compare.
    .filter((k): k is { key: string; type: string } => k.key !== null && EXTRA_KEY.test(k.key) && !["object", "array", "null"].includes(k.type))
    .slice(0, 50);
  if (!withExamples || keys.length === 0) return keys.map((k) => ({ ...k, examples: [] as Array<string | number> }));
  const rows = await d1.batch<{ v: string | number }>(
    keys.map((k) =>
      d1
        .prepare(
          `SELECT json_extract(extra_features, ?1) AS v, COUNT(*) AS n FROM customers
           WHERE project_id = ?2 AND json_extract(extra_features, ?1) IS NOT NULL GROUP BY 1 ORDER BY n DESC, v LIMIT 5`,
        )
        .bind(`$."${k.key}"`, project.id),
    ),
  );
  return keys.map((k, i) => ({ ...k, examples: rows[i]!.results.map((r) => (typeof r.v === "string" ? r.v.slice(0, 60) : r.v)) }));
}
