/**
 * Cosine nearest neighbours by exact search: fine up to the plan's profile limits (a few hundred
 * thousand vectors of a dozen dimensions). The VectorStore interface in services/ lets an approximate
 * index (Vectorize) take over for larger projects.
 */
export type Neighbour = { index: number; similarity: number };

export function cosineNearest(query: ArrayLike<number>, vectors: Float32Array | Float64Array, d: number, limit: number, exclude = -1): Neighbour[] {
  const n = Math.floor(vectors.length / d);
  let qNorm = 0;
  for (let j = 0; j < d; j++) qNorm += query[j]! * query[j]!;
  qNorm = Math.sqrt(qNorm);
  const best: Neighbour[] = [];
  for (let i = 0; i < n; i++) {
    if (i === exclude) continue;
    let dot = 0;
    let norm = 0;
    for (let j = 0; j < d; j++) {
      const v = vectors[i * d + j]!;
      dot += v * query[j]!;
      norm += v * v;
    }
    const similarity = qNorm > 0 && norm > 0 ? dot / (qNorm * Math.sqrt(norm)) : 0;
    if (best.length < limit || similarity > best[best.length - 1]!.similarity) {
      best.push({ index: i, similarity });
      best.sort((a, b) => b.similarity - a.similarity || a.index - b.index);
      if (best.length > limit) best.pop();
    }
  }
  return best;
}
