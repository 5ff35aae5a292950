/**
 * Strict UTF-8 for streamed bytes. A plain TextDecoder turns invalid bytes into U+FFFD silently, so two
 * distinct ids could read as one. Here each invalid byte becomes `INVALID_UTF8`, a lone surrogate that
 * no valid UTF-8 decodes to, so the row holding it can be refused with its row number.
 */
export const INVALID_UTF8 = "\uDC80";

export const hasInvalidUtf8 = (text: string) => text.includes(INVALID_UTF8);

// ignoreBOM: a chunk may start with a real U+FEFF; the CSV reader drops the file's leading BOM itself.
const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Length of the well-formed sequence at `i` (RFC 3629 table), or 0 when the byte there starts none. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < bytes.length && bytes[i + k]! >= lo && bytes[i + k]! <= hi;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** Bytes at the end that may begin a sequence completed by the next chunk (at most 3). */
function incompleteTail(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back]!;
    if (b < 0x80) return 0;
    if (b >= 0xc0) {
      const needed = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return needed > back ? back : 0;
    }
  }
  return 0;
}

function decodeMarked(bytes: Uint8Array): string {
  try {
    return fatal.decode(bytes);
  } catch {
    // Rare: walk the bytes and mark each one that starts no well-formed sequence.
    let out = "";
    let start = 0;
    let i = 0;
    while (i < bytes.length) {
      const length = sequenceLength(bytes, i);
      if (length > 0) i += length;
      else {
        out += fatal.decode(bytes.subarray(start, i)) + INVALID_UTF8;
        start = ++i;
      }
    }
    return out + fatal.decode(bytes.subarray(start));
  }
}

export class StrictUtf8Decoder {
  private carry = new Uint8Array(0);

  /** Decodes a chunk; a sequence split across chunks is held until the next one. */
  push(chunk: Uint8Array): string {
    let bytes = chunk;
    if (this.carry.length > 0) {
      bytes = new Uint8Array(this.carry.length + chunk.length);
      bytes.set(this.carry);
      bytes.set(chunk, this.carry.length);
    }
    const tail = incompleteTail(bytes);
    this.carry = bytes.slice(bytes.length - tail);
    return decodeMarked(bytes.subarray(0, bytes.length - tail));
  }

  /** What is left at the end: a truncated sequence is invalid. */
  end(): string {
    const rest = decodeMarked(this.carry);
    this.carry = new Uint8Array(0);
    return rest;
  }
}
