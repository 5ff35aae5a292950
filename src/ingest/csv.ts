/**
 * RFC 4180 CSV, streamed: text arrives in chunks of any size (a quoted field may span chunks and
 * lines), complete records come out. Handles a UTF-8 BOM, CRLF or LF, and `,` `;` or tab delimiters
 * (detected from the header line unless given). A stray quote inside an unquoted field is kept as
 * text (`12" vinyl`); an unterminated quoted field or text after a closing quote is an error.
 */
export type Delimiter = "," | ";" | "\t";

export class CsvError extends Error {}

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

  constructor(delimiter?: Delimiter) {
    this.delimiter = delimiter;
  }

  push(chunk: string): string[][] {
    if (!this.started) {
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      if (chunk.length === 0) return [];
      this.started = true;
      this.delimiter ??= detectDelimiter(chunk);
    }
    const delimiter = this.delimiter!;
    const out: string[][] = [];
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i]!;
      switch (this.state) {
        case State.FieldStart:
        case State.Unquoted:
          if (ch === delimiter) this.endField();
          else if (ch === "\n") this.endRecord(out);
          else if (ch === "\r") continue;
          else if (ch === '"' && this.state === State.FieldStart) this.state = State.Quoted;
          else {
            this.field += ch;
            this.state = State.Unquoted;
          }
          break;
        case State.Quoted:
          if (ch === '"') this.state = State.QuoteInQuoted;
          else {
            if (ch === "\n") this.line++;
            this.field += ch;
          }
          break;
        case State.QuoteInQuoted:
          if (ch === '"') {
            this.field += '"';
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
  end(): string[][] {
    if (this.state === State.Quoted) throw new CsvError(`unterminated quoted field starting on line ${this.recordLine}`);
    const out: string[][] = [];
    if (this.state !== State.FieldStart || this.record.length > 0) this.endRecord(out);
    return out;
  }

  private afterClosingQuote(ch: string, delimiter: Delimiter, out: string[][]) {
    if (ch === delimiter) this.endField();
    else if (ch === "\n") this.endRecord(out);
    else if (ch === "\r") this.state = State.ClosedCr;
    else throw new CsvError(`unexpected text after a closing quote on line ${this.line}`);
  }

  private endField() {
    this.record.push(this.field);
    this.field = "";
    this.state = State.FieldStart;
  }

  private endRecord(out: string[][]) {
    const blank = this.record.length === 0 && this.state === State.FieldStart && this.field === "";
    this.endField();
    if (!blank) out.push(this.record);
    this.record = [];
    this.line++;
    this.recordLine = this.line;
  }
}

/** The delimiter that splits the header line into the most fields, ignoring quoted text. */
export function detectDelimiter(text: string): Delimiter {
  const newline = text.indexOf("\n");
  const header = (newline === -1 ? text : text.slice(0, newline)).replace(/"[^"]*"/g, "");
  let best: Delimiter = ",";
  let bestCount = 0;
  for (const delimiter of [",", ";", "\t"] as const) {
    const count = header.split(delimiter).length - 1;
    if (count > bestCount) [best, bestCount] = [delimiter, count];
  }
  return best;
}

/** Parses a whole CSV text at once. */
export function parseCsv(text: string, delimiter?: Delimiter): string[][] {
  const parser = new CsvParser(delimiter);
  return [...parser.push(text), ...parser.end()];
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
