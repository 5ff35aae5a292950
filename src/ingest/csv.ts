/**
 * RFC 4180 CSV, streamed: text arrives in chunks of any size (a quoted field may span chunks and
 * lines), complete records come out. Handles a UTF-8 BOM, CRLF or LF, and `,` `;` or tab delimiters
 * (detected from the header line unless given), or runs of spaces when the header has none of those
 * (the CDNOW master file as published). A stray quote inside an unquoted field is kept as text
 * (`12" vinyl`); an unterminated quoted field or text after a closing quote is an error.
 *
 * Limits are checked while reading, so a 40 MB field or a million columns never reach memory or the
 * database: such a record comes out as an `OversizedRecord` (its text dropped) and reading goes on.
 */
export type Delimiter = "," | ";" | "\t" | " ";

export class CsvError extends Error {}

export const CSV_LIMITS = {
  /** characters in one field */
  fieldChars: 10_000,
  /** fields in one record */
  columns: 1_000,
  /** characters in one record, delimiters included */
  recordChars: 65_536,
};

/** A record over one of the limits: only the reason is kept. */
export class OversizedRecord {
  constructor(readonly reason: string) {}
}

export type CsvRecord = string[] | OversizedRecord;

const enum State {
  FieldStart,
  Unquoted,
  Quoted,
  /** a quote inside a quoted field: the closing quote, or the first of an escaped "" */
  QuoteInQuoted,
  /** after a closing quote and a CR, waiting for the LF */
  ClosedCr,
}

export class CsvParser {
  private delimiter: Delimiter | undefined;
  private state = State.FieldStart;
  private field = "";
  private record: string[] = [];
  private started = false;
  private line = 1;
  private recordLine = 1;
  private recordChars = 0;
  private oversized: string | null = null;

  constructor(delimiter?: Delimiter) {
    this.delimiter = delimiter;
  }

  push(chunk: string): CsvRecord[] {
    if (!this.started) {
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      if (chunk.length === 0) return [];
      this.started = true;
      this.delimiter ??= detectDelimiter(chunk);
    }
    const delimiter = this.delimiter!;
    // Runs of spaces are one separator, and leading or trailing spaces separate nothing.
    const spaces = delimiter === " ";
    const out: CsvRecord[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i]!;
      if (ch !== "\n" && ++this.recordChars > CSV_LIMITS.recordChars) this.oversized ??= `the row is longer than ${CSV_LIMITS.recordChars} characters`;
      switch (this.state) {
        case State.FieldStart:
        case State.Unquoted:
          if (ch === delimiter) {
            if (!spaces || this.state === State.Unquoted) this.endField();
          } else if (ch === "\n") this.endRecord(out);
          else if (ch === "\r") continue;
          else if (ch === '"' && this.state === State.FieldStart) this.state = State.Quoted;
          else {
            this.append(ch);
            this.state = State.Unquoted;
          }
          break;
        case State.Quoted:
          if (ch === '"') this.state = State.QuoteInQuoted;
          else {
            if (ch === "\n") this.line++;
            this.append(ch);
          }
          break;
        case State.QuoteInQuoted:
          if (ch === '"') {
            this.append('"');
            this.state = State.Quoted;
          } else this.afterClosingQuote(ch, delimiter, out);
          break;
        case State.ClosedCr:
          this.afterClosingQuote(ch, delimiter, out);
          break;
      }
    }
    return out;
  }

  /** Flushes the last record; throws on an unterminated quoted field. */
  end(): CsvRecord[] {
    if (this.state === State.Quoted) throw new CsvError(`unterminated quoted field starting on line ${this.recordLine}`);
    const out: CsvRecord[] = [];
    if (this.state !== State.FieldStart || this.record.length > 0) this.endRecord(out);
    return out;
  }

  private append(ch: string) {
    if (this.oversized !== null) return;
    if (this.field.length >= CSV_LIMITS.fieldChars) this.oversized = `a field is longer than ${CSV_LIMITS.fieldChars} characters`;
    else this.field += ch;
  }

  private afterClosingQuote(ch: string, delimiter: Delimiter, out: CsvRecord[]) {
    if (ch === delimiter) this.endField();
    else if (ch === "\n") this.endRecord(out);
    else if (ch === "\r") this.state = State.ClosedCr;
    else throw new CsvError(`unexpected text after a closing quote on line ${this.line}`);
  }

  private endField() {
    if (this.record.length >= CSV_LIMITS.columns) this.oversized ??= `the row has more than ${CSV_LIMITS.columns} columns`;
    if (this.oversized === null) this.record.push(this.field);
    this.field = "";
    this.state = State.FieldStart;
  }

  private endRecord(out: CsvRecord[]) {
    const blank = this.record.length === 0 && this.state === State.FieldStart && this.field === "" && this.oversized === null;
    // With space separators, spaces before the line end separate nothing.
    const trailingSpaces = this.delimiter === " " && this.state === State.FieldStart && this.record.length > 0;
    if (!trailingSpaces) this.endField();
    if (this.oversized !== null) out.push(new OversizedRecord(this.oversized));
    else if (!blank) out.push(this.record);
    this.record = [];
    this.field = "";
    this.state = State.FieldStart;
    this.oversized = null;
    this.recordChars = 0;
    this.line++;
    this.recordLine = this.line;
  }
}

/**
 * The delimiter that splits the header line into the most fields, ignoring quoted text; runs of
 * spaces when the header has no `,` `;` or tab but spaces between words.
 */
export function detectDelimiter(text: string): Delimiter {
  const newline = text.indexOf("\n");
  const header = (newline === -1 ? text : text.slice(0, newline)).replace(/"[^"]*"/g, "");
  let best: Delimiter = ",";
  let bestCount = 0;
  for (const delimiter of [",", ";", "\t"] as const) {
    const count = header.split(delimiter).length - 1;
    if (count > bestCount) [best, bestCount] = [delimiter, count];
  }
  if (bestCount === 0 && /\S +\S/.test(header)) return " ";
  return best;
}

/** Parses a whole CSV text at once; a record over the limits is an error here. */
export function parseCsv(text: string, delimiter?: Delimiter): string[][] {
  const parser = new CsvParser(delimiter);
  return [...parser.push(text), ...parser.end()].map((record) => {
    if (record instanceof OversizedRecord) throw new CsvError(record.reason);
    return record;
  });
}

function escapeField(value: string): string {
  return /[",;\t\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Writes rows as comma-separated CSV under a header row. */
export function toCsv(columns: readonly string[], rows: Iterable<ReadonlyArray<string>>): string {
  const lines = [columns.map(escapeField).join(",")];
  for (const row of rows) lines.push(row.map(escapeField).join(","));
  return lines.join("\n") + "\n";
}
