import { CSV_LIMITS, OversizedRecord, type CsvRecord } from "./csv";

/**
 * The first sheet of an XLSX workbook as rows of text, the shape the CSV reader produces, so both
 * formats share one row validator. Date cells become ISO dates; numbers keep full precision.
 *
 * Read here rather than with a library: read-excel-file hands large zip entries to a Web Worker, which
 * workerd does not have, and parses a sheet into one document in memory. This reader inflates each
 * entry with the platform's DecompressionStream under a running byte cap (a zip bomb is refused when
 * it passes the cap, not after), and scans the sheet's rows as they inflate, so memory stays bounded
 * by the shared strings and one chunk of the sheet, whatever the number of rows.
 */
export class XlsxError extends Error {}

export const XLSX_LIMITS = {
  /** inflated bytes of the sheet: about 1.5 million typical rows */
  sheetBytes: 256 * 1024 * 1024,
  /** inflated bytes of the shared strings, which are held in memory while the sheet is read */
  sharedStringsBytes: 32 * 1024 * 1024,
  /** inflated bytes of any other part read (workbook, relationships, styles) */
  partBytes: 8 * 1024 * 1024,
  /** inflated size at most this many times the compressed size, plus the slack below */
  maxRatio: 200,
  ratioSlackBytes: 16 * 1024 * 1024,
};

/** Rows handed out at a time, with how far through the sheet they are (0..1). */
export type XlsxBatch = { records: CsvRecord[]; fraction: number };

const ROWS_PER_BATCH = 2_000;
/** Sheet text held while waiting for a row to close: a row within the CSV limits is far smaller. */
const MAX_PENDING_CHARS = 8 * 1024 * 1024;

type ZipEntry = { name: string; method: number; compressedSize: number; size: number; dataOffset: number };

function zipEntries(data: ArrayBuffer): Map<string, ZipEntry> {
  const view = new DataView(data);
  const bytes = new Uint8Array(data);
  let eocd = -1;
  for (let i = data.byteLength - 22; i >= Math.max(0, data.byteLength - 22 - 65_535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd === -1) throw new XlsxError("it is not a zip archive (no central directory)");
  const count = view.getUint16(eocd + 10, true);
  let offset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || offset === 0xffffffff) throw new XlsxError("ZIP64 workbooks are not supported; save it as a smaller workbook or CSV");
  const names = new TextDecoder();
  const entries = new Map<string, ZipEntry>();
  for (let n = 0; n < count; n++) {
    if (offset + 46 > data.byteLength || view.getUint32(offset, true) !== 0x02014b50) throw new XlsxError("its zip directory is corrupt");
    const nameLength = view.getUint16(offset + 28, true);
    const name = names.decode(bytes.subarray(offset + 46, offset + 46 + nameLength));
    const local = view.getUint32(offset + 42, true);
    if (local + 30 > data.byteLength || view.getUint32(local, true) !== 0x04034b50) throw new XlsxError(`its zip entry ${name} is corrupt`);
    entries.set(name, {
      name,
      method: view.getUint16(offset + 10, true),
      compressedSize: view.getUint32(offset + 20, true),
      size: view.getUint32(offset + 24, true),
      dataOffset: local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true),
    });
    offset += 46 + nameLength + view.getUint16(offset + 30, true) + view.getUint16(offset + 32, true);
  }
  return entries;
}

/** An entry's inflated bytes, chunk by chunk, refused as soon as they pass `limit`. */
async function* inflate(data: ArrayBuffer, entry: ZipEntry, limit: number): AsyncGenerator<Uint8Array> {
  const end = entry.dataOffset + entry.compressedSize;
  if (end > data.byteLength) throw new XlsxError(`its zip entry ${entry.name} is truncated`);
  const compressed = new Uint8Array(data, entry.dataOffset, entry.compressedSize);
  // Real workbooks inflate 5 to 50 times; far past that it is a zip bomb, refused before it fills memory or time.
  limit = Math.min(limit, XLSX_LIMITS.ratioSlackBytes + entry.compressedSize * XLSX_LIMITS.maxRatio);
  const tooLarge = () => new XlsxError(`${entry.name} inflates to more than ${limit} bytes (a zip bomb is refused)`);
  if (entry.method === 0) {
    if (compressed.byteLength > limit) throw tooLarge();
    yield compressed;
    return;
  }
  if (entry.method !== 8) throw new XlsxError(`${entry.name} uses an unsupported zip compression method (${entry.method})`);
  const reader = new Blob([compressed]).stream().pipeThrough(new DecompressionStream("deflate-raw")).getReader();
  let total = 0;
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        throw new XlsxError(`${entry.name} is not valid deflate data`);
      }
      if (chunk.done) return;
      total += chunk.value.byteLength;
      if (total > limit) throw tooLarge();
      yield chunk.value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** An entry's text: XML parts are UTF-8, decoded strictly. */
async function* inflateText(data: ArrayBuffer, entry: ZipEntry, limit: number): AsyncGenerator<{ text: string; bytes: number }> {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  try {
    for await (const chunk of inflate(data, entry, limit)) yield { text: decoder.decode(chunk, { stream: true }), bytes: chunk.byteLength };
    yield { text: decoder.decode(), bytes: 0 };
  } catch (error) {
    if (error instanceof TypeError) throw new XlsxError(`${entry.name} is not valid UTF-8`);
    throw error;
  }
}

/**
 * Element names without their namespace prefix (`<x:row>` → `<row>`): some writers prefix the
 * spreadsheet namespace. A `<` in text is always escaped, so only tags match.
 */
const withoutPrefixes = (xml: string) => xml.replace(/<(\/?)[A-Za-z_][\w.-]*:/g, "<$1");

async function readPart(data: ArrayBuffer, entries: Map<string, ZipEntry>, name: string, limit = XLSX_LIMITS.partBytes): Promise<string | null> {
  const entry = entries.get(name);
  if (!entry) return null;
  let text = "";
  for await (const piece of inflateText(data, entry, limit)) text += piece.text;
  return withoutPrefixes(text);
}

const attribute = (attributes: string, name: string) => new RegExp(`(?:^|\\s)${name}="([^"]*)"`).exec(attributes)?.[1];

function unescapeXml(text: string): string {
  return text
    .replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi, (_, entity: string) => {
      if (entity[0] === "#") return String.fromCodePoint(entity[1] === "x" || entity[1] === "X" ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10));
      return { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" }[entity.toLowerCase()]!;
    })
    .replace(/_x([0-9A-Fa-f]{4})_/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The text of a string item (`<si>` or `<is>`): its `<t>` runs, without phonetic guides. */
const itemText = (xml: string) =>
  unescapeXml([...xml.replace(/<rPh\b[\s\S]*?<\/rPh>/g, "").matchAll(/<t\b[^>]*>([\s\S]*?)<\/t>|<t\b[^>]*\/>/g)].map((m) => m[1] ?? "").join(""));

/** The path of the workbook's first sheet, through workbook.xml and its relationships. */
function firstSheetPath(workbook: string | null, relationships: string | null): string {
  const sheet = workbook && /<sheet\b([^>]*)>/.exec(workbook);
  const id = sheet && attribute(sheet[1]!, "r:id");
  if (id && relationships) {
    for (const [, attributes] of relationships.matchAll(/<Relationship\b([^>]*)>/g)) {
      if (attribute(attributes!, "Id") !== id) continue;
      const target = attribute(attributes!, "Target") ?? "";
      return target.startsWith("/") ? target.slice(1) : `xl/${target}`;
    }
  }
  return "xl/worksheets/sheet1.xml";
}

const BUILTIN_DATE_FORMATS = new Set([14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47, 50, 51, 52, 53, 54, 55, 56, 57, 58]);

/** Which cell styles (indexes into cellXfs) format numbers as dates. */
function dateStyles(styles: string | null): Set<number> {
  const dates = new Set<number>();
  if (!styles) return dates;
  const custom = new Map<number, string>();
  for (const [, attributes] of styles.matchAll(/<numFmt\b([^>]*)>/g)) custom.set(Number(attribute(attributes!, "numFmtId")), unescapeXml(attribute(attributes!, "formatCode") ?? ""));
  const xfs = /<cellXfs\b[^>]*>([\s\S]*?)<\/cellXfs>/.exec(styles)?.[1] ?? "";
  [...xfs.matchAll(/<xf\b([^>]*)>/g)].forEach(([, attributes], index) => {
    const id = Number(attribute(attributes!, "numFmtId") ?? 0);
    const code = custom.get(id);
    // A custom code is a date when, outside quoted text, brackets and escapes, it has date or time parts.
    if (BUILTIN_DATE_FORMATS.has(id) || (code !== undefined && /[dmyhs]/i.test(code.replace(/"[^"]*"|\[[^\]]*\]|\\./g, "")))) dates.add(index);
  });
  return dates;
}

function columnIndex(reference: string | undefined, fallback: number): number {
  const letters = reference && /^[A-Z]+/.exec(reference)?.[0];
  if (!letters) return fallback;
  let index = 0;
  for (const letter of letters) index = index * 26 + (letter.charCodeAt(0) - 64);
  return index - 1;
}

/** An Excel serial day as an ISO date (or date-time when it has a time of day). */
function serialToIso(serial: number, date1904: boolean): string {
  const ms = Math.round((serial + (date1904 ? 1462 : 0) - 25569) * 86_400_000);
  const iso = new Date(ms).toISOString();
  return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso;
}

type SheetContext = { shared: string[]; dates: Set<number>; date1904: boolean };

function readRowXml(xml: string, context: SheetContext): CsvRecord {
  const record: string[] = [];
  let next = 0;
  for (const [, attributes, body = ""] of xml.matchAll(/<c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
    const column = columnIndex(attribute(attributes!, "r"), next);
    next = column + 1;
    if (column >= CSV_LIMITS.columns) return new OversizedRecord(`the row has more than ${CSV_LIMITS.columns} columns`);
    const type = attribute(attributes!, "t") ?? "n";
    const raw = /<v\b[^>]*>([\s\S]*?)<\/v>/.exec(body)?.[1];
    let value = "";
    if (type === "inlineStr") value = itemText(/<is\b[^>]*>([\s\S]*?)<\/is>/.exec(body)?.[1] ?? "");
    else if (raw === undefined) value = "";
    else if (type === "s") value = context.shared[Number(raw)] ?? "";
    else if (type === "b") value = raw.trim() === "1" ? "true" : "false";
    else if (type === "n") {
      const number = Number(raw);
      const style = Number(attribute(attributes!, "s") ?? 0);
      value = !Number.isFinite(number) ? raw.trim() : context.dates.has(style) ? serialToIso(number, context.date1904) : String(number);
    } else value = unescapeXml(raw);
    if (value.length > CSV_LIMITS.fieldChars) return new OversizedRecord(`a field is longer than ${CSV_LIMITS.fieldChars} characters`);
    while (record.length < column) record.push("");
    record[column] = value;
  }
  return record;
}

/** Reads the first sheet in batches of rows. Throws XlsxError for anything that is not a usable workbook. */
export async function* xlsxRecords(data: ArrayBuffer): AsyncGenerator<XlsxBatch> {
  const entries = zipEntries(data);
  const workbook = await readPart(data, entries, "xl/workbook.xml");
  const sheetEntry = entries.get(firstSheetPath(workbook, await readPart(data, entries, "xl/_rels/workbook.xml.rels")));
  if (!workbook || !sheetEntry) throw new XlsxError("it has no workbook or first sheet");
  const sharedXml = await readPart(data, entries, "xl/sharedStrings.xml", XLSX_LIMITS.sharedStringsBytes);
  const context: SheetContext = {
    shared: sharedXml ? [...sharedXml.matchAll(/<si\b[^>]*>([\s\S]*?)<\/si>|<si\b[^>]*\/>/g)].map((m) => itemText(m[1] ?? "")) : [],
    dates: dateStyles(await readPart(data, entries, "xl/styles.xml")),
    date1904: /<workbookPr\b[^>]*\bdate1904="(1|true)"/.test(workbook),
  };

  // Text after the last complete row, kept as pieces: joining only when a row closes keeps each
  // byte copied a bounded number of times, however long a row runs.
  let pieces: string[] = [];
  let pendingLength = 0;
  let buffer = "";
  let inflated = 0;
  let records: CsvRecord[] = [];
  const rowPattern = /<row\b[^>]*?(?:\/>|>([\s\S]*?)<\/row>)/g;
  for await (const piece of inflateText(data, sheetEntry, XLSX_LIMITS.sheetBytes)) {
    inflated += piece.bytes;
    const seam = (pieces.at(-1) ?? "").slice(-5) + piece.text;
    pieces.push(piece.text);
    pendingLength += piece.text.length;
    // Only whole rows are read; the rest waits for the next chunk.
    if (!seam.includes("row>")) {
      if (pendingLength > MAX_PENDING_CHARS) throw new XlsxError("a row of the sheet is too large to read");
      continue;
    }
    buffer = withoutPrefixes(pieces.join(""));
    const close = buffer.lastIndexOf("</row>");
    if (close === -1) {
      pieces = [buffer];
      continue;
    }
    const lastClose = close + "</row>".length;
    const complete = buffer.slice(0, lastClose);
    buffer = buffer.slice(lastClose);
    pieces = [buffer];
    pendingLength = buffer.length;
    for (const [, body] of complete.matchAll(rowPattern)) {
      const record = body === undefined ? [] : readRowXml(body, context);
      if (Array.isArray(record) && record.every((value) => value === "")) continue;
      records.push(record);
      if (records.length >= ROWS_PER_BATCH) {
        yield { records, fraction: Math.min(1, inflated / Math.max(1, sheetEntry.size)) };
        records = [];
      }
    }
  }
  for (const [, body] of withoutPrefixes(pieces.join("")).matchAll(rowPattern)) {
    const record = body === undefined ? [] : readRowXml(body, context);
    if (!(Array.isArray(record) && record.every((value) => value === ""))) records.push(record);
  }
  yield { records, fraction: 1 };
}
