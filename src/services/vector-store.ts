import type { IndexState } from "../../durable-objects/similarity-index";
import { cosineNearest } from "../engine/similar";
import { storedEmbedding } from "../db/stored-json";
import type { Bindings } from "../env";

export type SimilarMatch = { customerKey: string; similarity: number };

/** Where customer embeddings are searched (both implementations exact: the same neighbours and similarities). */
export interface VectorStore {
  /** Null when the customer has no embedding yet (not profiled). */
  nearest(projectId: string, customerKey: string, limit: number): Promise<SimilarMatch[] | null>;
}

/** Similarities are answered to 6 decimals. */
export const roundedSimilarity = (similarity: number) => Math.round(similarity * 1e6) / 1e6;

type Env = Pick<Bindings, "DB" | "SIMILARITY_INDEX" | "VECTOR_STORE">;

/** The project's SimilarityIndex (VECTOR_STORE "index", the default), or the D1 scan ("d1-scan": the reference benches compare it with). */
export const vectorStore = (env: Env): VectorStore => (env.VECTOR_STORE === "d1-scan" ? new D1VectorStore(env.DB) : new IndexedVectorStore(env));

/**
 * Searches the project's SimilarityIndex, a Durable Object holding its embeddings packed in memory,
 * at the version of the embeddings D1 has now: an index older than that is built again before it
 * answers, so a finished model run or a removed customer is never answered from old data.
 */
export class IndexedVectorStore implements VectorStore {
  constructor(private readonly env: Pick<Bindings, "DB" | "SIMILARITY_INDEX">) {}

  async nearest(projectId: string, customerKey: string, limit: number): Promise<SimilarMatch[] | null> {
    const version = await embeddingsVersion(this.env.DB, projectId);
    if (version === null) return null;
    return similarityIndex(this.env, projectId).nearest(projectId, version, customerKey, limit);
  }
}

/**
 * Reads every embedding of the project from D1 and parses it on each request: tens of MB at 500,000
 * customers, so it serves small projects only. Kept as the reference the index is tested and
 * benchmarked against.
 */
export class D1VectorStore implements VectorStore {
  constructor(private readonly d1: D1Database) {}

  async nearest(projectId: string, customerKey: string, limit: number): Promise<SimilarMatch[] | null> {
    const { results } = await this.d1
      .prepare("SELECT customer_id, embedding FROM customers WHERE project_id = ? AND embedding IS NOT NULL ORDER BY customer_id")
      .bind(projectId)
      .all<{ customer_id: string; embedding: string }>();
    const self = results.findIndex((r) => r.customer_id === customerKey);
    if (self === -1) return null;
    const d = storedEmbedding(results[self]!.embedding).length;
    const vectors = new Float64Array(results.length * d);
    results.forEach((r, i) => {
      const v = storedEmbedding(r.embedding);
      if (v.length === d) vectors.set(v, i * d);
    });
    return cosineNearest(vectors.subarray(self * d, self * d + d), vectors, d, limit, self).map((n) => ({
      customerKey: results[n.index]!.customer_id,
      similarity: roundedSimilarity(n.similarity),
    }));
  }
}

const similarityIndex = (env: Pick<Bindings, "SIMILARITY_INDEX">, projectId: string) => env.SIMILARITY_INDEX.get(env.SIMILARITY_INDEX.idFromName(projectId));

/** projects.embeddings_version (migration 0020's triggers move it), or null when the project is gone. */
export async function embeddingsVersion(d1: D1Database, projectId: string): Promise<number | null> {
  const row = await d1.prepare("SELECT embeddings_version AS version FROM projects WHERE id = ?").bind(projectId).first<{ version: number }>();
  return row?.version ?? null;
}

/** Customers with an embedding after `after` (by customer_id), at most `limit`. */
export async function readEmbeddingPage(d1: D1Database, projectId: string, after: string, limit: number) {
  const { results } = await d1
    .prepare("SELECT customer_id, embedding FROM customers WHERE project_id = ? AND customer_id > ? AND embedding IS NOT NULL ORDER BY customer_id LIMIT ?")
    .bind(projectId, after, limit)
    .all<{ customer_id: string; embedding: string }>();
  return results;
}

/** Builds the project's index after a model run, ahead of the first question. */
export async function warmSimilarityIndex(env: Pick<Bindings, "SIMILARITY_INDEX">, projectId: string): Promise<IndexState | null> {
  try {
    return await similarityIndex(env, projectId).warm(projectId);
  } catch (error) {
    // Only a head start: the first question builds what it needs.
    console.error(JSON.stringify({ level: "error", message: "similarity index warm-up failed", projectId, error: String(error) }));
    return null;
  }
}

/** Drops a deleted project's index. */
export async function forgetSimilarityIndex(env: Pick<Bindings, "SIMILARITY_INDEX">, projectId: string) {
  await similarityIndex(env, projectId).forget();
}
