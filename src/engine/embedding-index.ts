import type { Neighbour } from "./similar";

/**
 * A project's embeddings packed for exact cosine search at the Pro plan's 500,000 profiles: the
 * vectors as integers (the engine stores every coordinate rounded to 4 decimals, so v × 10^4 is an
 * integer and k / 10^4 gives back the very double JSON.parse read: IEEE division is correctly
 * rounded), each vector's norm, and the customer ids as UTF-8 bytes end to end. About 4d + 8 bytes
 * a customer plus its id: 500,000 customers of 13 dimensions take ~36 MB, against ~60 MB as
 * Float64Array and several times that as parsed JSON rows.
 *
 * Customers are added in customer_id order (SQLite's BINARY collation: the bytes of their UTF-8),
 * which is also the tie order of equal similarities, so an id is found by binary search and answers
 * are the same whichever way the rows were read. The arithmetic is cosineNearest's, in the same
 * order, so similarities are bit for bit what it computes over the parsed JSON.
 */
export class EmbeddingIndex {
  constructor(
    readonly n: number,
    readonly d: number,
    private readonly vectors: Int32Array,
    /** √(Σ v²) of each vector, summed in coordinate order as cosineNearest does */
    private readonly norms: Float64Array,
    private readonly idBytes: Uint8Array,
    /** customer i's id is idBytes[idOffsets[i] .. idOffsets[i + 1]) */
    private readonly idOffsets: Uint32Array,
  ) {}

  /** The typed arrays, to be stored as they are (`new EmbeddingIndex(n, d, ...columns)` takes them back). */
  get columns(): [vectors: Int32Array, norms: Float64Array, idBytes: Uint8Array, idOffsets: Uint32Array] {
    return [this.vectors, this.norms, this.idBytes, this.idOffsets];
  }

  /** Bytes held by the typed arrays. */
  get bytes() {
    return this.columns.reduce((sum, column) => sum + column.byteLength, 0);
  }

  customerId(i: number): string {
    return decoder.decode(this.idBytes.subarray(this.idOffsets[i]!, this.idOffsets[i + 1]!));
  }

  /** The position of a customer id, or -1. */
  find(customerId: string): number {
    const key = encoder.encode(customerId);
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const order = compareBytes(this.idBytes, this.idOffsets[mid]!, this.idOffsets[mid + 1]!, key);
      if (order === 0) return mid;
      if (order < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The `limit` nearest customers to customer `self` (left out), most similar first, ties in id order. */
  nearest(self: number, limit: number): Neighbour[] {
    const { d, vectors, norms } = this;
    const query = new Float64Array(d);
    for (let j = 0; j < d; j++) query[j] = vectors[self * d + j]! / SCALE;
    const qNorm = norms[self]!;
    const best: Neighbour[] = [];
    for (let i = 0, at = 0; i < this.n; i++, at += d) {
      if (i === self) continue;
      const norm = norms[i]!;
      let dot = 0;
      for (let j = 0; j < d; j++) dot += (vectors[at + j]! / SCALE) * query[j]!;
      const similarity = qNorm > 0 && norm > 0 ? dot / (qNorm * norm) : 0;
      if (best.length < limit || similarity > best[best.length - 1]!.similarity) {
        best.push({ index: i, similarity });
        best.sort((a, b) => b.similarity - a.similarity || a.index - b.index);
        if (best.length > limit) best.pop();
      }
    }
    return best;
  }
}

/** Coordinates are stored × 10^4: the 4 decimals the engine rounds embeddings to. */
const SCALE = 10_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** memcmp order of bytes[from..to) against key, as SQLite's BINARY collation compares UTF-8 text. */
function compareBytes(bytes: Uint8Array, from: number, to: number, key: Uint8Array): number {
  const length = Math.min(to - from, key.length);
  for (let k = 0; k < length; k++) {
    const diff = bytes[from + k]! - key[k]!;
    if (diff !== 0) return diff;
  }
  return to - from - key.length;
}

/**
 * Collects customers (in customer_id order) into an EmbeddingIndex. The dimension is the first
 * vector's; a vector of another length (only while a run that changed the features is half written)
 * is kept as zeros, so it scores 0, as cosineNearest scores it.
 */
export class EmbeddingIndexBuilder {
  private n = 0;
  private d = -1;
  private vectors = new Int32Array(0);
  private norms: Float64Array;
  private idBytes: Uint8Array;
  private idOffsets: Uint32Array;
  private idLength = 0;

  /** `expected` sizes the arrays; more customers than that are taken too. */
  constructor(private capacity: number) {
    this.capacity = Math.max(1, capacity);
    this.norms = new Float64Array(this.capacity);
    this.idOffsets = new Uint32Array(this.capacity + 1);
    this.idBytes = new Uint8Array(this.capacity * 12);
  }

  add(customerId: string, embedding: number[]) {
    if (this.d === -1) {
      this.d = embedding.length;
      this.vectors = new Int32Array(this.capacity * this.d);
    }
    if (this.n === this.capacity) this.grow();
    const { d, n } = this;
    let norm = 0;
    if (embedding.length === d) {
      for (let j = 0; j < d; j++) {
        const v = embedding[j]!;
        const k = Math.round(v * SCALE);
        // Only the engine writes embeddings, always at 4 decimals; anything else would change answers silently.
        if (k / SCALE !== v || Math.abs(k) > 0x7fffffff) throw new Error(`embedding of ${customerId} is not at 4 decimals within ±214,748: ${v}`);
        this.vectors[n * d + j] = k;
        norm += v * v;
      }
    }
    this.norms[n] = Math.sqrt(norm);
    let encoded = encoder.encodeInto(customerId, this.idBytes.subarray(this.idLength));
    // encodeInto stops short when the buffer is full: grow it and write the id again.
    while (encoded.read < customerId.length) {
      this.idBytes = resized(this.idBytes, this.idBytes.length * 2);
      encoded = encoder.encodeInto(customerId, this.idBytes.subarray(this.idLength));
    }
    this.idLength += encoded.written;
    this.idOffsets[n + 1] = this.idLength;
    this.n++;
  }

  finish(): EmbeddingIndex {
    const { n } = this;
    const d = Math.max(0, this.d);
    return new EmbeddingIndex(n, d, this.vectors.subarray(0, n * d), this.norms.subarray(0, n), this.idBytes.subarray(0, this.idLength), this.idOffsets.subarray(0, n + 1));
  }

  private grow() {
    this.capacity *= 2;
    this.vectors = resized(this.vectors, this.capacity * this.d);
    this.norms = resized(this.norms, this.capacity);
    this.idOffsets = resized(this.idOffsets, this.capacity + 1);
  }
}

function resized<T extends Int32Array | Float64Array | Uint32Array | Uint8Array>(array: T, length: number): T {
  const next = new (array.constructor as new (length: number) => T)(length);
  next.set(array.subarray(0, Math.min(array.length, length)) as never);
  return next;
}
