/** A dense row-major matrix of n rows × d columns on one Float64Array. */
export type Matrix = { data: Float64Array; n: number; d: number };

export const matrix = (n: number, d: number): Matrix => ({ data: new Float64Array(n * d), n, d });

/** Squared Euclidean distance between row i of a and row j of b. */
export function squaredDistance(a: Float64Array, i: number, b: Float64Array, j: number, d: number): number {
  let sum = 0;
  const ai = i * d;
  const bj = j * d;
  for (let c = 0; c < d; c++) {
    const diff = a[ai + c]! - b[bj + c]!;
    sum += diff * diff;
  }
  return sum;
}

export function selectRows(m: Matrix, rows: ArrayLike<number>): Matrix {
  const out = matrix(rows.length, m.d);
  for (let r = 0; r < rows.length; r++) out.data.set(m.data.subarray(rows[r]! * m.d, rows[r]! * m.d + m.d), r * m.d);
  return out;
}

/** Per-column mean and standard deviation (population); a constant column gets sd 1 so it maps to 0. */
export function columnStats(m: Matrix) {
  const mean = new Float64Array(m.d);
  const sd = new Float64Array(m.d);
  for (let i = 0; i < m.n; i++) for (let c = 0; c < m.d; c++) mean[c]! += m.data[i * m.d + c]!;
  for (let c = 0; c < m.d; c++) mean[c] = m.n > 0 ? mean[c]! / m.n : 0;
  for (let i = 0; i < m.n; i++) {
    for (let c = 0; c < m.d; c++) {
      const diff = m.data[i * m.d + c]! - mean[c]!;
      sd[c]! += diff * diff;
    }
  }
  for (let c = 0; c < m.d; c++) {
    const value = m.n > 0 ? Math.sqrt(sd[c]! / m.n) : 0;
    sd[c] = value > 1e-12 ? value : 1;
  }
  return { mean, sd };
}

/** z-scores, in place. */
export function standardize(m: Matrix, stats = columnStats(m)): Matrix {
  for (let i = 0; i < m.n; i++) for (let c = 0; c < m.d; c++) m.data[i * m.d + c] = (m.data[i * m.d + c]! - stats.mean[c]!) / stats.sd[c]!;
  return m;
}
