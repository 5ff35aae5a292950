import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EmbeddingIndexBuilder } from "../../src/engine/embedding-index";
import { seededRandom } from "../../src/engine/random";
import { cosineNearest } from "../../src/engine/similar";
import { D1VectorStore, IndexedVectorStore, warmSimilarityIndex } from "../../src/services/vector-store";
import { call, expectError, json, tenant } from "../helpers";

const round4 = (v: number) => Math.round(v * 1e4) / 1e4;

/**
 * Embeddings as the engine writes them (4 decimals), with exact duplicates so ties occur, a zero
 * vector, and ids whose UTF-8 order differs from JavaScript's string order (U+FF5E sorts before
 * U+1F600 by UTF-16 code units, after it by UTF-8 bytes, which is SQLite's order).
 */
function embeddings(n: number, d: number, seed = 7): Array<[string, number[]]> {
  const random = seededRandom(seed);
  const rows: Array<[string, number[]]> = [];
  for (let i = 0; i < n; i++) {
    const vector = i % 7 === 3 && i > 0 ? [...rows[i - 3]![1]] : Array.from({ length: d }, () => round4((random() - 0.5) * 6));
    rows.push([`c-${String(i).padStart(4, "0")}${i % 11 === 0 ? "\u{1F600}" : i % 13 === 0 ? "\uFF5E" : ""}`, i === 5 ? new Array(d).fill(0) : vector]);
  }
  return rows;
}

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

async function projectWithEmbeddings(rows: Array<[string, number[] | null]>) {
  const t = await tenant();
  const now = Date.now();
  for (let start = 0; start < rows.length; start += 200) {
    await env.DB.prepare(
      `INSERT INTO customers (project_id, customer_id, last_transaction_at, frequency, purchase_days, purchases_cents, returns_cents, return_count, monetary_cents, return_rate, updated_at, embedding)
       SELECT ?1, value ->> 0, ?2, 1, 1, 100, 0, 0, 100, 0, ?2, value ->> 1 FROM json_each(?3)`,
    )
      .bind(t.project.id, now, JSON.stringify(rows.slice(start, start + 200).map(([id, e]) => [id, e && JSON.stringify(e)])))
      .run();
  }
  return t;
}

const indexStub = (projectId: string) => env.SIMILARITY_INDEX.get(env.SIMILARITY_INDEX.idFromName(projectId));

describe("EmbeddingIndex", () => {
  it("finds the same neighbours and similarities as cosineNearest over the parsed doubles, ties in id order", () => {
    const d = 6;
    const rows = embeddings(400, d).sort((a, b) => utf8Order(a[0], b[0]));
    rows[17]![1] = [1, 2]; // a vector of another length scores 0, as in cosineNearest
    const builder = new EmbeddingIndexBuilder(3); // grows past its first guess
    for (const [id, e] of rows) builder.add(id, e);
    const index = builder.finish();
    const vectors = new Float64Array(rows.length * d);
    rows.forEach(([, e], i) => e.length === d && vectors.set(e, i * d));
    expect(index.n).toBe(400);
    for (const self of [0, 1, 4, 5, 17, 33, 200, 399]) {
      const reference = cosineNearest(vectors.subarray(self * d, self * d + d), vectors, d, 25, self);
      expect(index.nearest(self, 25)).toEqual(reference);
    }
    for (const [i, [id]] of rows.entries()) {
      expect(index.find(id)).toBe(i);
      expect(index.customerId(i)).toBe(id);
    }
    expect(index.find("c-9999")).toBe(-1);
    expect(index.find("")).toBe(-1);
  });

  it("refuses a coordinate that is not at the engine's 4 decimals rather than change answers", () => {
    const builder = new EmbeddingIndexBuilder(1);
    expect(() => builder.add("a", [0.12345])).toThrow(/4 decimals/);
  });
});

describe("similar customers from the project's SimilarityIndex", () => {
  it("answers exactly what the D1 scan answers", async () => {
    const rows: Array<[string, number[] | null]> = embeddings(600, 9);
    rows.push(["no-embedding-yet", null]);
    const t = await projectWithEmbeddings(rows);
    const scan = new D1VectorStore(env.DB);
    const index = new IndexedVectorStore(env);
    for (const [key] of rows.filter((_, i) => i % 37 === 0)) {
      for (const limit of [1, 10, 100]) expect(await index.nearest(t.project.id, key, limit)).toEqual(await scan.nearest(t.project.id, key, limit));
    }
    expect(await index.nearest(t.project.id, "no-embedding-yet", 10)).toBeNull();
    expect(await index.nearest(t.project.id, "unknown", 10)).toBeNull();
    const state = await warmSimilarityIndex(env, t.project.id);
    expect(state).toMatchObject({ customers: 600, dimensions: 9 });
    // vectors, norms and id offsets, plus the ids' bytes (at least 6 each)
    expect(state!.bytes).toBeGreaterThanOrEqual(600 * (9 * 4 + 8 + 4 + 6) + 4);
  });

  it("never answers from embeddings a model run or a file deletion has replaced", async () => {
    const rows = embeddings(50, 4);
    const t = await projectWithEmbeddings(rows);
    const index = new IndexedVectorStore(env);
    const [key, vector] = rows[1]!; // a vector without a twin in the set
    const before = await index.nearest(t.project.id, key, 3);
    const version = async () => (await env.DB.prepare("SELECT embeddings_version AS v FROM projects WHERE id = ?").bind(t.project.id).first<{ v: number }>())!.v;
    const held = await version();

    // Ingest's aggregates and uplift scores leave embeddings alone: the index is not thrown away for them.
    await env.DB.prepare("UPDATE customers SET frequency = frequency + 1, uplift_score = 0.1 WHERE project_id = ?").bind(t.project.id).run();
    expect(await version()).toBe(held);

    // A model run rewrites an embedding: customer 49 becomes the query's twin.
    await env.DB.prepare("UPDATE customers SET embedding = ? WHERE project_id = ? AND customer_id = ?").bind(JSON.stringify(vector), t.project.id, rows[49]![0]).run();
    const after = (await index.nearest(t.project.id, key, 3))!;
    expect(after[0]).toEqual({ customerKey: rows[49]![0], similarity: 1 });
    expect(after).not.toEqual(before);
    expect(after).toEqual(await new D1VectorStore(env.DB).nearest(t.project.id, key, 3));

    // A customer removed (a file deleted) is gone from the next answer.
    await env.DB.prepare("DELETE FROM customers WHERE project_id = ? AND customer_id = ?").bind(t.project.id, rows[49]![0]).run();
    const removed = (await index.nearest(t.project.id, key, 50))!;
    expect(removed.map((m) => m.customerKey)).not.toContain(rows[49]![0]);
    expect(removed).toHaveLength(48);

    // A new customer modelled since is found.
    await env.DB.prepare(
      "INSERT INTO customers (project_id, customer_id, last_transaction_at, frequency, purchase_days, purchases_cents, returns_cents, return_count, monetary_cents, return_rate, updated_at, embedding) VALUES (?, 'late', 0, 1, 1, 1, 0, 0, 1, 0, 0, ?)",
    )
      .bind(t.project.id, JSON.stringify(vector))
      .run();
    expect((await index.nearest(t.project.id, key, 1))![0]).toEqual({ customerKey: "late", similarity: 1 });
  });

  it("comes back from its own storage after an eviction, unless the embeddings moved on", async () => {
    const rows = embeddings(120, 5);
    const t = await projectWithEmbeddings(rows);
    const index = new IndexedVectorStore(env);
    const [key, vector] = rows[1]!;
    const before = await index.nearest(t.project.id, key, 10);
    const evict = () => runInDurableObject(indexStub(t.project.id), (object) => void ((object as unknown as { held: unknown }).held = null));

    await evict();
    expect(await warmSimilarityIndex(env, t.project.id)).toMatchObject({ source: "storage", customers: 120 });
    expect(await index.nearest(t.project.id, key, 10)).toEqual(before);

    await evict();
    await env.DB.prepare("UPDATE customers SET embedding = ? WHERE project_id = ? AND customer_id = ?").bind(JSON.stringify(vector), t.project.id, rows[100]![0]).run();
    const after = (await index.nearest(t.project.id, key, 10))!;
    expect(after[0]).toEqual({ customerKey: rows[100]![0], similarity: 1 });
    expect(after).toEqual(await new D1VectorStore(env.DB).nearest(t.project.id, key, 10));
    expect(await warmSimilarityIndex(env, t.project.id)).toMatchObject({ source: "d1" });
  });

  it("answers requests arriving together from one build", async () => {
    const rows = embeddings(300, 5);
    const t = await projectWithEmbeddings(rows);
    const index = new IndexedVectorStore(env);
    const answers = await Promise.all(rows.slice(0, 8).map(([key]) => index.nearest(t.project.id, key, 5)));
    const scan = new D1VectorStore(env.DB);
    for (const [i, answer] of answers.entries()) expect(answer).toEqual(await scan.nearest(t.project.id, rows[i]![0], 5));
  });

  it("serves /similar from the index and forgets it when the project is deleted", async () => {
    const rows = embeddings(40, 4);
    const t = await projectWithEmbeddings(rows);
    const { id } = (await env.DB.prepare("SELECT id FROM customers WHERE project_id = ? AND customer_id = ?").bind(t.project.id, rows[0]![0]).first<{ id: string }>())!;
    const similar = await json(await call("GET", `/api/engine/customers/${id}/similar?limit=5`, { token: t.apiKey.key }));
    const reference = (await new D1VectorStore(env.DB).nearest(t.project.id, rows[0]![0], 5))!;
    expect(similar.similar.map((s: { customer_id: string; similarity: number }) => ({ customerKey: s.customer_id, similarity: s.similarity }))).toEqual(reference);
    expect(await runInDurableObject(indexStub(t.project.id), (object) => (object as unknown as { held: unknown }).held)).not.toBeNull();

    expect((await call("DELETE", `/api/projects/${t.project.id}`, { token: t.owner.token })).status).toBe(204);
    const left = await runInDurableObject(indexStub(t.project.id), (object, state) => ({
      held: (object as unknown as { held: unknown }).held,
      stored: state.storage.sql.exec<{ n: number }>("SELECT (SELECT COUNT(*) FROM index_meta) + (SELECT COUNT(*) FROM index_chunks) AS n").one().n,
    }));
    expect(left).toEqual({ held: null, stored: 0 });
    await expectError(await call("GET", `/api/engine/customers/${id}/similar`, { token: t.owner.token }), 404, "not_found");
    // Asked directly, the object finds no project and answers nothing, whatever it held before.
    expect(await indexStub(t.project.id).nearest(t.project.id, 1_000_000, rows[0]![0], 5)).toBeNull();
  });
});
