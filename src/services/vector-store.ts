import { cosineNearest } from "../engine/similar";
import { storedEmbedding } from "../db/stored-json";

export type SimilarMatch = { customerKey: string; similarity: number };

/**
 * Where customer embeddings are searched. The D1 implementation does an exact cosine search over the
 * project's vectors, which is fine up to the plans' profile limits; a Vectorize-backed implementation
 * can take this interface for larger projects.
 */
export interface VectorStore {
  nearest(projectId: string, customerKey: string, limit: number): Promise<SimilarMatch[] | null>;
}

export class D1VectorStore implements VectorStore {
  constructor(private readonly d1: D1Database) {}

  /** Null when the customer has no embedding yet (not profiled). */
  async nearest(projectId: string, customerKey: string, limit: number): Promise<SimilarMatch[] | null> {
    const { results } = await this.d1
      .prepare("SELECT customer_id, embedding FROM customers WHERE project_id = ? AND embedding IS NOT NULL")
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
      similarity: Math.round(n.similarity * 1e6) / 1e6,
    }));
  }
}
