import { describe, expect, it } from "vitest";
import { storedSignalPaths, storedTaxId } from "../../src/db/stored-json";

describe("stored JSON", () => {
  it("reads back what the writers store", () => {
    const paths = [{ path: "$.country", types: [{ type: "text", customers: 3 }] }];
    expect(storedSignalPaths(JSON.stringify(paths))).toEqual(paths);
    expect(storedTaxId(JSON.stringify({ type: "eu_vat", value: "DE123456789" }))).toEqual({ type: "eu_vat", value: "DE123456789" });
  });

  it("refuses a row of another shape rather than passing it on", () => {
    expect(() => storedSignalPaths(JSON.stringify([{ path: "$.country", types: "text" }]))).toThrow();
    expect(() => storedTaxId(JSON.stringify({ type: "eu_vat" }))).toThrow();
  });
});
