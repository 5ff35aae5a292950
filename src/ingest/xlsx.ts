import { readSheet } from "read-excel-file/universal";

/**
 * The first sheet of an XLSX workbook as rows of text, the shape the CSV reader produces, so both
 * formats share one row validator. Date cells become ISO dates; numbers keep full precision.
 */
export async function readXlsxRows(data: ArrayBuffer): Promise<string[][]> {
  const sheet = await readSheet(data);
  return sheet.map((row) =>
    row.map((value) => {
      if (value === null || value === undefined) return "";
      if (value instanceof Date) {
        const iso = value.toISOString();
        return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso;
      }
      return String(value);
    }),
  );
}
