import { describe, expect, it } from "vitest";
import { hasInvalidUtf8, INVALID_UTF8, StrictUtf8Decoder } from "../../src/ingest/utf8";

const decodeInChunks = (bytes: Uint8Array, size: number) => {
  const decoder = new StrictUtf8Decoder();
  let text = "";
  for (let i = 0; i < bytes.length; i += size) text += decoder.push(bytes.subarray(i, i + size));
  return text + decoder.end();
};

describe("strict UTF-8", () => {
  it("decodes valid text the same whatever the chunking, sequences split across chunks included", () => {
    const text = "\uFEFFid,ad\nş€😀,Zoë\n\uFFFD kept as written\n";
    const bytes = new TextEncoder().encode(text);
    for (const size of [1, 2, 3, 5, 1000]) expect(decodeInChunks(bytes, size), `chunks of ${size}`).toBe(text);
  });

  it("marks each invalid byte instead of turning it into U+FFFD, so distinct ids stay distinct", () => {
    const a = new Uint8Array([0x61, 0xff, 0x62]);
    const b = new Uint8Array([0x61, 0xfe, 0x62]);
    for (const size of [1, 2, 10]) {
      expect(decodeInChunks(a, size)).toBe(`a${INVALID_UTF8}b`);
      expect(hasInvalidUtf8(decodeInChunks(b, size))).toBe(true);
    }
    // Overlong encodings, surrogates and a sequence cut off at the end are invalid too.
    expect(hasInvalidUtf8(decodeInChunks(new Uint8Array([0xc0, 0xaf]), 1))).toBe(true);
    expect(hasInvalidUtf8(decodeInChunks(new Uint8Array([0xed, 0xa0, 0x80]), 2))).toBe(true);
    expect(decodeInChunks(new Uint8Array([0x61, 0xe2, 0x82]), 1)).toBe(`a${INVALID_UTF8}${INVALID_UTF8}`);
    expect(hasInvalidUtf8(new TextDecoder().decode(new Uint8Array([0xef, 0xbf, 0xbd])))).toBe(false);
  });
});
