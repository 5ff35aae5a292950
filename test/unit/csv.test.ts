import { describe, expect, it } from "vitest";
import { CSV_LIMITS, CsvError, CsvParser, detectDelimiter, OversizedRecord, parseCsv, toCsv, type CsvRecord } from "../../src/ingest/csv";

describe("CSV parser", () => {
  it("reads quoted fields with delimiters, escaped quotes and newlines", () => {
    expect(parseCsv('a,b,c\n1,"x, y","say ""hi"""\n2,"multi\nline",\n')).toEqual([
      ["a", "b", "c"],
      ["1", "x, y", 'say "hi"'],
      ["2", "multi\nline", ""],
    ]);
  });

  it("strips a BOM, accepts CRLF, skips blank lines and keeps a last line without newline", () => {
    expect(parseCsv("\uFEFFa;b\r\n\r\n1;2\r\n3;4")).toEqual([["a", "b"], ["1", "2"], ["3", "4"]]);
  });

  it("detects , ; and tab from the header, ignoring quoted text", () => {
    expect(detectDelimiter("a;b;c\n1,5;2;3")).toBe(";");
    expect(detectDelimiter("a\tb\n")).toBe("\t");
    expect(detectDelimiter('"x;y",b,c\n')).toBe(",");
    expect(detectDelimiter("single\n")).toBe(",");
  });

  it("gives the same records whatever the chunking", () => {
    const text = 'id,note\n1,"a ""quoted""\nvalue"\r\n2,plain\n3,"x,y"\n';
    const whole = parseCsv(text);
    for (const size of [1, 2, 3, 7]) {
      const parser = new CsvParser();
      const records: CsvRecord[] = [];
      for (let i = 0; i < text.length; i += size) records.push(...parser.push(text.slice(i, i + size)));
      records.push(...parser.end());
      expect(records, `chunks of ${size}`).toEqual(whole);
    }
  });

  it("refuses an unterminated quote and text after a closing quote, keeps stray quotes in plain fields", () => {
    expect(() => parseCsv('a,b\n1,"open\n')).toThrow(CsvError);
    expect(() => parseCsv('a,b\n1,"x"y\n')).toThrow(/after a closing quote on line 2/);
    expect(parseCsv('a\n12" vinyl\n')).toEqual([["a"], ['12" vinyl']]);
  });

  it("writes what it reads back", () => {
    const rows = [["1", "x, y", 'q"uote', "semi;colon", " padded "], ["2", "", "line\nbreak", "tab\tbed", "plain"]];
    const columns = ["id", "a", "b", "c", "d"];
    expect(parseCsv(toCsv(columns, rows))).toEqual([columns, ...rows]);
  });

  it("checks field, column and row limits while reading: an oversized record is reported and reading goes on", () => {
    const parser = new CsvParser(",");
    const longField = "x".repeat(CSV_LIMITS.fieldChars + 1);
    const manyColumns = Array.from({ length: CSV_LIMITS.columns + 1 }, () => "1").join(",");
    const longRow = Array.from({ length: 10 }, () => "y".repeat(CSV_LIMITS.fieldChars - 1)).join(",");
    const records = [...parser.push(`a,b\nok,1\n"${longField}",2\n${manyColumns}\n${longRow}\nlast,3\n`), ...parser.end()];
    expect(records.map((r) => (r instanceof OversizedRecord ? r.reason : r))).toEqual([
      ["a", "b"],
      ["ok", "1"],
      `a field is longer than ${CSV_LIMITS.fieldChars} characters`,
      `the row has more than ${CSV_LIMITS.columns} columns`,
      `the row is longer than ${CSV_LIMITS.recordChars} characters`,
      ["last", "3"],
    ]);
  });

  it("reads runs of spaces as the delimiter when the header has no other (the CDNOW master file)", () => {
    const text = " customer_id  date number_of_cds  dollar_value\r\n 00001 19970101  1   11.77\r\n 00002 19970112  1   12.00 \r\n";
    expect(detectDelimiter(text)).toBe(" ");
    expect(parseCsv(text)).toEqual([
      ["customer_id", "date", "number_of_cds", "dollar_value"],
      ["00001", "19970101", "1", "11.77"],
      ["00002", "19970112", "1", "12.00"],
    ]);
    expect(detectDelimiter("customer_id,order date,amount\n")).toBe(",");
  });
});
