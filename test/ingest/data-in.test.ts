// The library's synchronous zip: its default `toBlob()` zips large sheets in a Web Worker, which workerd lacks.
// @ts-expect-error: a module of the package without type declarations
import { generateXlsxFileSync } from "../../node_modules/write-excel-file/modules/export/writeXlsxFileUniversal.js";
// @ts-expect-error: as above
import toUint8Array from "../../node_modules/write-excel-file/modules/export/convertFileContentToUint8ArrayUniversal.js";
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CSV_LIMITS } from "../../src/ingest/csv";
import type { IngestMessage } from "../../src/queues/messages";
import { call, consumeOne, d1RefusingBatches, expectError, json, tenant } from "../helpers";
import { customerRows, ingest, upload, waitForJob } from "./helpers";

type Tenant = Awaited<ReturnType<typeof tenant>>;
const XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async function uploadAndWait(t: Tenant, name: string, content: string | ArrayBuffer | Uint8Array, mapping?: unknown, type?: string) {
  const res = await upload(t.owner.token, t.project.id, name, content, mapping, type);
  expect(res.status).toBe(202);
  const accepted = await json(res);
  return { accepted, job: await waitForJob(t.owner.token, accepted.job_id, 60_000) };
}

const countRows = async (sql: string, ...bind: unknown[]) => (await env.DB.prepare(sql).bind(...bind).first<{ n: number }>())!.n;

describe("the same data twice", { timeout: 30_000 }, () => {
  it("refuses a second upload of identical content (409 duplicate_file naming the first) unless forced", async () => {
    const t = await tenant();
    const csv = "customer_id,order_date,amount\nA,2025-01-01,10\nB,2025-01-02,5\n";
    const first = await uploadAndWait(t, "orders.csv", csv);
    const again = await expectError(await upload(t.owner.token, t.project.id, "orders-copy.csv", csv), 409, "duplicate_file");
    expect(again.detail).toMatchObject({ file_id: first.accepted.file_id, filename: "orders.csv" });
    expect(again.error).toContain("orders.csv");
    const files = await json(await call("GET", `/api/engine/projects/${t.project.id}/files`, { token: t.owner.token }));
    expect(files.files).toHaveLength(1);
    expect((await customerRows(t.project.id)).find((c) => c.customer_id === "A")).toMatchObject({ frequency: 1, monetary_cents: 1000 });

    // Forced, it is stored again (the caller said these are new orders).
    const form = new FormData();
    form.append("file", new File([csv], "orders.csv", { type: "text/csv" }));
    form.append("force", "true");
    const forced = await call("POST", `/api/engine/projects/${t.project.id}/files`, { token: t.owner.token, body: form });
    expect(forced.status).toBe(202);
    await waitForJob(t.owner.token, (await json(forced)).job_id);
    expect((await customerRows(t.project.id)).find((c) => c.customer_id === "A")).toMatchObject({ frequency: 2, monetary_cents: 2000 });
  });

  it("lets a file whose first upload failed be uploaded again", async () => {
    const t = await tenant();
    const csv = "name,date,amount\nx,2025-01-01,1\n";
    expect((await uploadAndWait(t, "bad.csv", csv)).job.status).toBe("failed");
    expect((await upload(t.owner.token, t.project.id, "bad.csv", csv)).status).toBe(202);
  });

  it("does not store an order a customer already has from another file, and lists it as a duplicate with its row", async () => {
    const t = await tenant();
    await uploadAndWait(t, "jan.csv", "customer_id,order_id,order_date,amount\nA,O-1,2025-01-01,10\nA,O-1,2025-01-01,5\nB,O-2,2025-01-02,7\n");
    // Overlapping export: O-1 again (both lines), O-2 now under another customer (a different order), O-3 new.
    const { job } = await uploadAndWait(
      t,
      "jan-feb.csv",
      "customer_id,order_id,order_date,amount\nA,O-1,2025-01-01,10\nA,O-1,2025-01-01,5\nC,O-2,2025-01-03,1\nA,O-3,2025-02-01,20\n",
    );
    expect(job.status).toBe("completed");
    expect(job.result).toMatchObject({ rows_total: 4, rows_accepted: 2, rows_rejected: 0, rows_duplicate: 2 });
    expect(job.result.duplicates).toEqual([
      { row: 1, order_id: "O-1", reason: expect.stringContaining("already stored") },
      { row: 2, order_id: "O-1", reason: expect.stringContaining("already stored") },
    ]);
    const a = (await customerRows(t.project.id)).find((c) => c.customer_id === "A");
    expect(a).toMatchObject({ frequency: 2, monetary_cents: 3500 });
    expect(await countRows("SELECT COUNT(*) AS n FROM transactions WHERE project_id = ?", t.project.id)).toBe(5);
  });
});

describe("limits while reading (permanent errors end the job at once)", { timeout: 30_000 }, () => {
  it("rejects a row with an oversized field or too many columns, with its row number, and keeps the rest", async () => {
    const t = await tenant();
    const manyColumns = ["C", "2025-01-01", "1", ...Array.from({ length: CSV_LIMITS.columns }, () => "x")].join(",");
    const csv = `customer_id,order_date,amount,note\nA,2025-01-01,10,ok\nB,2025-01-01,5,${"y".repeat(2_000_000)}\n${manyColumns}\nD,2025-01-02,3,\n`;
    const { job } = await uploadAndWait(t, "big.csv", csv);
    expect(job.status).toBe("completed");
    expect(job.attempts).toBe(1);
    expect(job.result).toMatchObject({ rows_total: 4, rows_accepted: 2, rows_rejected: 2 });
    expect(job.result.rejections).toEqual([
      { row: 2, reason: `a field is longer than ${CSV_LIMITS.fieldChars} characters` },
      { row: 3, reason: `the row has more than ${CSV_LIMITS.columns} columns` },
    ]);
    expect((await customerRows(t.project.id)).map((c) => c.customer_id)).toEqual(["A", "D"]);
  });

  it("fails a file whose header has a million columns at the first attempt, with a clear message", async () => {
    const t = await tenant();
    const header = Array.from({ length: 1_000_000 }, (_, i) => `c${i % 10}`).join(",");
    const { job } = await uploadAndWait(t, "wide.csv", `${header}\n1,2,3\n`);
    expect(job).toMatchObject({ status: "failed", attempts: 1 });
    expect(job.error_message).toMatch(/header row cannot be read: the row (has more than|is longer than)/);
  });

  it("ends the job at once, without the driver's words, when the database refuses the data", async () => {
    const t = await tenant();
    const accepted = await ingest(t.apiKey.key, t.project.id, [{ customer_id: "A", order_date: "2025-01-01", amount: 1 }]);
    await waitForJob(t.apiKey.key, accepted.job_id);
    await env.DB.prepare("UPDATE jobs SET status = 'processing', attempts = 0 WHERE id = ?").bind(accepted.job_id).run();
    await env.DB.prepare("DELETE FROM transactions WHERE file_id = ?").bind(accepted.file_id).run();
    // The D1 answer to a value over its size limit, raised where transactions are written.
    const refusing = d1RefusingBatches("D1_ERROR: string or blob too big: SQLITE_TOOBIG", "INSERT OR IGNORE INTO transactions");
    const row = (await env.DB.prepare("SELECT organization_id FROM jobs WHERE id = ?").bind(accepted.job_id).first<{ organization_id: string }>())!;
    const message: IngestMessage = { kind: "ingest", jobId: accepted.job_id, fileId: accepted.file_id, projectId: t.project.id, organizationId: row.organization_id };
    const result = await consumeOne("segmento-ingest", message, { DB: refusing });
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toEqual(["m1"]);
    const job = await json(await call("GET", `/api/engine/jobs/${accepted.job_id}/status`, { token: t.owner.token }));
    expect(job.status).toBe("failed");
    expect(job.error_message).toMatch(/internal error that retrying cannot fix/);
    expect(job.error_message).not.toMatch(/D1|SQLITE|blob/);
  });
});

describe("strict text", { timeout: 30_000 }, () => {
  it("rejects rows with invalid UTF-8 (with the row number) instead of merging ids into U+FFFD, and control characters in ids", async () => {
    const t = await tenant();
    const enc = new TextEncoder();
    const bytes = new Uint8Array([
      ...enc.encode("customer_id,order_id,order_date,amount\nok,1,2025-01-01,1\nid"),
      0xff,
      ...enc.encode(",2,2025-01-01,1\nid"),
      0xfe,
      ...enc.encode(",3,2025-01-01,1\nnul\u0000id,4,2025-01-01,1\nbell\u0007,5,2025-01-01,1\nok2,6\u001b,2025-01-01,1\nZoë,7,2025-01-01,1\n"),
    ]);
    const { job } = await uploadAndWait(t, "mixed.csv", bytes);
    expect(job.status).toBe("completed");
    expect(job.result.rejections).toEqual([
      { row: 2, reason: "column 1 holds bytes that are not valid UTF-8" },
      { row: 3, reason: "column 1 holds bytes that are not valid UTF-8" },
      { row: 4, reason: "the row holds a NUL character" },
      { row: 5, reason: "customer_id holds a control character" },
      { row: 6, reason: "order_id holds a control character" },
    ]);
    expect((await customerRows(t.project.id)).map((c) => c.customer_id)).toEqual(["Zoë", "ok"]);
  });

  it("fails the file when its header is not valid UTF-8", async () => {
    const t = await tenant();
    const bytes = new Uint8Array([...new TextEncoder().encode("customer_id,order_date,amount,K"), 0xfc, ...new TextEncoder().encode("ndigung\nA,2025-01-01,1,x\n")]);
    const { job } = await uploadAndWait(t, "latin1.csv", bytes);
    expect(job.status).toBe("failed");
    expect(job.error_message).toMatch(/header row holds bytes that are not valid UTF-8/);
    expect(await customerRows(t.project.id)).toEqual([]);
  });

  it("refuses API records holding unpaired surrogates (400), storing nothing", async () => {
    const t = await tenant();
    const body = `{"project_id":"${t.project.id}","records":[{"customer_id":"a\\ud800","order_date":"2025-01-01","amount":1}]}`;
    const error = await expectError(await call("POST", "/api/v1/ingest", { token: t.apiKey.key, body }), 400, "validation_error");
    expect(error.detail[0].path).toBe("records.0.customer_id");
    const files = await json(await call("GET", `/api/engine/projects/${t.project.id}/files`, { token: t.owner.token }));
    expect(files.files).toEqual([]);
  });
});

describe("profiles quota", { timeout: 30_000 }, () => {
  /** Customers with one stored transaction each, as an earlier file would leave them. */
  async function withCustomers(t: Tenant, n: number) {
    const ids = JSON.stringify(Array.from({ length: n }, (_, i) => `seed-${i}`));
    const fileId = crypto.randomUUID();
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO files (id, project_id, organization_id, source, format, filename, r2_key, size_bytes, row_count, status, created_at, updated_at) VALUES (?, ?, ?, 'upload', 'csv', 'seed.csv', 'k', 1, ?, 'completed', 0, 0)",
      ).bind(fileId, t.project.id, t.organization.id, n),
      env.DB.prepare(
        `INSERT INTO transactions (file_id, row_number, project_id, customer_id, ordered_at, order_day, amount_cents, is_return)
         SELECT ?1, key + 1, ?2, value, 0, '1970-01-01', 100, 0 FROM json_each(?3)`,
      ).bind(fileId, t.project.id, ids),
      env.DB.prepare(
        `INSERT INTO customers (project_id, customer_id, last_transaction_at, frequency, purchase_days, purchases_cents, returns_cents, return_count, monetary_cents, return_rate, updated_at)
         SELECT ?1, value, 0, 1, 1, 100, 0, 0, 100, 0, 0 FROM json_each(?2)`,
      ).bind(t.project.id, ids),
    ]);
  }

  it("answers 429 to API ingest that would pass the free plan's 5,000 profiles, before storing anything", async () => {
    const t = await tenant();
    await withCustomers(t, 4_999);
    const records = [
      { CustomerID: "new-1", order_date: "2025-01-01", amount: 1 },
      { CustomerID: "new-2", order_date: "2025-01-01", amount: 1 },
      { CustomerID: "seed-1", order_date: "2025-01-01", amount: 1 },
    ];
    const error = await expectError(await call("POST", "/api/v1/ingest", { token: t.apiKey.key, body: { project_id: t.project.id, records } }), 429, "quota_exceeded");
    expect(error.detail).toMatchObject({ quota: "profiles", plan: "free", limit: 5000, used: 4999, adding: 2, upgrade_to: "starter" });
    const files = await json(await call("GET", `/api/engine/projects/${t.project.id}/files`, { token: t.owner.token }));
    expect(files.files.map((f: { filename: string }) => f.filename)).toEqual(["seed.csv"]);
    // One new customer fits.
    const accepted = await ingest(t.apiKey.key, t.project.id, records.slice(1));
    expect((await waitForJob(t.apiKey.key, accepted.job_id)).status).toBe("completed");
    expect(await countRows("SELECT COUNT(*) AS n FROM customers WHERE project_id = ?", t.project.id)).toBe(5000);
  });

  it("fails an upload's job that would pass the limit, storing nothing", async () => {
    const t = await tenant();
    await withCustomers(t, 4_999);
    const { accepted, job } = await uploadAndWait(t, "more.csv", "customer_id,order_date,amount\nseed-1,2025-01-01,1\nn1,2025-01-01,1\nn2,2025-01-01,1\n");
    expect(job.status).toBe("failed");
    expect(job.error_message).toMatch(/would add 2 customer profiles, but the plan allows 5000 and 4999 are in use/);
    expect(await countRows("SELECT COUNT(*) AS n FROM transactions WHERE file_id = ?", accepted.file_id)).toBe(0);
    expect(await countRows("SELECT COUNT(*) AS n FROM customers WHERE project_id = ?", t.project.id)).toBe(4999);
  });
});

describe("XLSX of any size", { timeout: 90_000 }, () => {
  it("reads a 20,000-row workbook inside workerd", async () => {
    const t = await tenant();
    const rows: unknown[][] = [["Customer ID", "Order Date", "Amount", "Channel"]];
    for (let i = 0; i < 20_000; i++) rows.push([`C${i % 1500}`, new Date(Date.UTC(2025, i % 12, 1 + (i % 28))), (i % 97) + 0.5, i % 2 ? "web" : "store"]);
    const blob: Blob = await generateXlsxFileSync(rows, { dateFormat: "yyyy-mm-dd" }, undefined, toUint8Array);
    const { job } = await uploadAndWait(t, "big.xlsx", await blob.arrayBuffer(), undefined, XLSX_TYPE);
    expect(job.error_message).toBeNull();
    expect(job.result).toMatchObject({ rows_total: 20_000, rows_accepted: 20_000, customers: 1500 });
    const total = await countRows("SELECT SUM(amount_cents) AS n FROM transactions WHERE project_id = ?", t.project.id);
    expect(total).toBe(rows.slice(1).reduce((sum, r) => sum + Math.round((r[2] as number) * 100), 0));
  });

  it("reads prefixed elements, shared and rich-text strings, inline strings and custom date formats", async () => {
    const t = await tenant();
    const text = (xml: string) => new TextEncoder().encode(xml);
    const ns = 'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';
    const workbook = zip([
      { name: "xl/workbook.xml", data: text(`<x:workbook ${ns}><x:sheets><x:sheet name="Orders" sheetId="7" r:id="rId3"/></x:sheets></x:workbook>`) },
      {
        name: "xl/_rels/workbook.xml.rels",
        data: text('<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/><Relationship Id="rId3" Target="worksheets/orders.xml"/></Relationships>'),
      },
      {
        name: "xl/sharedStrings.xml",
        data: text(`<x:sst ${ns}><x:si><x:t>Kunde</x:t></x:si><x:si><x:r><x:t>K-</x:t></x:r><x:r><x:t xml:space="preserve">1 &amp; 2</x:t></x:r><x:rPh><x:t>ignored</x:t></x:rPh></x:si></x:sst>`),
      },
      {
        name: "xl/styles.xml",
        data: text(`<x:styleSheet ${ns}><x:numFmts><x:numFmt numFmtId="170" formatCode="dd&quot;.&quot;mm&quot;.&quot;yyyy"/></x:numFmts><x:cellXfs count="2"><x:xf numFmtId="0"/><x:xf numFmtId="170"/></x:cellXfs></x:styleSheet>`),
      },
      {
        name: "xl/worksheets/orders.xml",
        data: text(
          `<x:worksheet ${ns}><x:sheetData>` +
            '<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c r="B1" t="inlineStr"><x:is><x:t>Datum</x:t></x:is></x:c><x:c r="C1" t="inlineStr"><x:is><x:t>Betrag</x:t></x:is></x:c></x:row>' +
            '<x:row r="2"><x:c r="A2" t="s"><x:v>1</x:v></x:c><x:c r="B2" s="1"><x:v>45658</x:v></x:c><x:c r="C2"><x:v>12.5</x:v></x:c></x:row>' +
            '<x:row r="3"/>' +
            '<x:row r="4"><x:c r="A4" t="inlineStr"><x:is><x:t>K-3</x:t></x:is></x:c><x:c r="B4" s="1"><x:v>45659.5</x:v></x:c><x:c r="C4" t="str"><x:v>7</x:v></x:c></x:row>' +
            "</x:sheetData></x:worksheet>",
        ),
      },
    ]);
    const mapping = { columns: { customer_id: "Kunde", order_date: "Datum", amount: "Betrag" } };
    const { job } = await uploadAndWait(t, "prefixed.xlsx", workbook, mapping, XLSX_TYPE);
    expect(job.error_message).toBeNull();
    expect(job.result).toMatchObject({ rows_total: 2, rows_accepted: 2 });
    const rows = await customerRows(t.project.id);
    expect(rows.map((c) => [c.customer_id, new Date(c.first_purchase_at).toISOString(), c.monetary_cents])).toEqual([
      ["K-1 & 2", "2025-01-01T00:00:00.000Z", 1250],
      ["K-3", "2025-01-02T12:00:00.000Z", 700],
    ]);
  });

  it("refuses a zip bomb (a tiny sheet that inflates past the limit) with a clear message", async () => {
    const t = await tenant();
    // 60 MB of empty rows deflate to about 100 KB.
    const emptyRows = new TextEncoder().encode("<row></row>".repeat(100_000));
    let sent = 0;
    const sheet = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ >= 55) controller.close();
        else controller.enqueue(emptyRows);
      },
    }).pipeThrough(new CompressionStream("deflate-raw"));
    const deflated = new Uint8Array(await new Response(sheet).arrayBuffer());
    const bomb = zip([
      { name: "xl/workbook.xml", data: new TextEncoder().encode('<workbook><sheets><sheet name="S" sheetId="1"/></sheets></workbook>') },
      { name: "xl/worksheets/sheet1.xml", data: deflated, deflatedSize: 55 * emptyRows.byteLength },
    ]);
    expect(bomb.byteLength).toBeLessThan(200 * 1024);
    const { job } = await uploadAndWait(t, "bomb.xlsx", bomb, undefined, XLSX_TYPE);
    expect(job.status).toBe("failed");
    expect(job.error_message).toMatch(/not a readable XLSX workbook: xl\/worksheets\/sheet1\.xml inflates to more than \d+ bytes \(a zip bomb is refused\)/);
  });
});

/** A minimal zip: stored entries, or deflated ones given with the size they inflate to (CRC left 0; the reader does not check it). */
function zip(entries: Array<{ name: string; data: Uint8Array; deflatedSize?: number }>): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = new TextEncoder().encode(entry.name);
    const method = entry.deflatedSize === undefined ? 0 : 8;
    const size = entry.deflatedSize ?? entry.data.byteLength;
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(8, method, true);
    local.setUint32(18, entry.data.byteLength, true);
    local.setUint32(22, size, true);
    local.setUint16(26, name.byteLength, true);
    const header = new DataView(new ArrayBuffer(46));
    header.setUint32(0, 0x02014b50, true);
    header.setUint16(10, method, true);
    header.setUint32(20, entry.data.byteLength, true);
    header.setUint32(24, size, true);
    header.setUint16(28, name.byteLength, true);
    header.setUint32(42, offset, true);
    parts.push(new Uint8Array(local.buffer), name, entry.data);
    central.push(new Uint8Array(header.buffer), name);
    offset += 30 + name.byteLength + entry.data.byteLength;
  }
  const centralSize = central.reduce((sum, p) => sum + p.byteLength, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true);
  const all = [...parts, ...central, new Uint8Array(end.buffer)];
  const out = new Uint8Array(all.reduce((sum, p) => sum + p.byteLength, 0));
  let at = 0;
  for (const p of all) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

describe("delimiters, mapping and job state", { timeout: 30_000 }, () => {
  it("reads a whitespace-separated file (the CDNOW master file as published)", async () => {
    const t = await tenant();
    const text = " customer_id  date number_of_cds  dollar_value\r\n 00001 19970101  1   11.77\r\n 00002 19970112  1   12.00\r\n 00002 19970112  5   77.00\r\n";
    const { job } = await uploadAndWait(t, "CDNOW_master.txt", text);
    expect(job.status).toBe("completed");
    expect(job.result).toMatchObject({ rows_accepted: 3, columns: { customer_id: "customer_id", order_date: "date", amount: "dollar_value", quantity: "number_of_cds" } });
    expect((await customerRows(t.project.id)).map((c) => [c.customer_id, c.monetary_cents])).toEqual([["00001", 1177], ["00002", 8900]]);
  });

  it("says the delimiter is the problem when the header reads as one column", async () => {
    const t = await tenant();
    const { job } = await uploadAndWait(t, "pipes.csv", "customer_id|order_date|amount\nA|2025-01-01|1\n");
    expect(job.status).toBe("failed");
    expect(job.error_message).toMatch(/delimiter was not recognised/);
  });

  it("applies the mapping sent with POST /api/v1/ingest", async () => {
    const t = await tenant();
    const res = await call("POST", "/api/v1/ingest", {
      token: t.apiKey.key,
      body: {
        project_id: t.project.id,
        records: [{ Kunde: "k1", Datum: "03/04/2025", Umsatz: "12,5" }],
        mapping: { columns: { customer_id: "Kunde", order_date: "Datum", amount: "Umsatz" }, date_format: "DD/MM/YYYY", default_currency: "EUR" },
      },
    });
    expect(res.status).toBe(202);
    const job = await waitForJob(t.apiKey.key, (await json(res)).job_id);
    expect(job.result).toMatchObject({ rows_accepted: 1, rows_rejected: 0 });
    const [k1] = await customerRows(t.project.id);
    expect(new Date(k1!.first_purchase_at).toISOString().slice(0, 10)).toBe("2025-04-03");
    expect(await countRows("SELECT COUNT(*) AS n FROM transactions WHERE project_id = ? AND currency = 'EUR'", t.project.id)).toBe(1);
    const bad = await call("POST", "/api/v1/ingest", { token: t.apiKey.key, body: { project_id: t.project.id, records: [{ a: 1 }], mapping: { date_format: "YY" } } });
    await expectError(bad, 400, "validation_error");
  });

  it("keeps the currency an amount is written in (code or sign) and rejects a row whose amount and currency column disagree", async () => {
    const t = await tenant();
    const records = [
      { customer_id: "c1", order_date: "2025-01-01", amount: "USD 7.50" },
      { customer_id: "c2", order_date: "2025-01-01", amount: "€3" },
      { customer_id: "c3", order_date: "2025-01-01", amount: "¥100" },
      { customer_id: "c4", order_date: "2025-01-01", amount: "5 TRY", currency: "EUR" },
      { customer_id: "c5", order_date: "2025-01-01", amount: "$2", currency: "CAD" },
      { customer_id: "c6", order_date: "2025-01-01", amount: "£4", currency: "EUR" },
      { customer_id: "c7", order_date: "2025-01-01", amount: "5 TRY", currency: "TRY" },
      { customer_id: "c8", order_date: "2025-01-01", amount: "9" },
      { customer_id: "c9", order_date: "2025-01-01", amount: "$1" },
    ];
    const res = await call("POST", "/api/v1/ingest", { token: t.apiKey.key, body: { project_id: t.project.id, records, mapping: { default_currency: "AUD" } } });
    expect(res.status).toBe(202);
    const job = await waitForJob(t.apiKey.key, (await json(res)).job_id);
    expect(job.result).toMatchObject({ rows_accepted: 7, rows_rejected: 2 });
    expect(job.result.rejections).toEqual([
      { row: 4, reason: 'amount "5 TRY" is in TRY but currency says EUR' },
      { row: 6, reason: expect.stringContaining("but currency says EUR") },
    ]);
    const { results } = await env.DB.prepare("SELECT customer_id, amount_cents, currency FROM transactions WHERE project_id = ? ORDER BY customer_id").bind(t.project.id).all();
    expect(results.map((r) => [r.customer_id, r.amount_cents, r.currency])).toEqual([
      ["c1", 750, "USD"],
      ["c2", 300, "EUR"],
      // Amounts are hundredths of the unit for every currency (a fixed point ×100, not ISO minor units).
      ["c3", 10000, "JPY"],
      ["c5", 200, "CAD"],
      ["c7", 500, "TRY"],
      ["c8", 900, "AUD"],
      // `$` takes the default currency when it is a dollar.
      ["c9", 100, "AUD"],
    ]);
  });

  it("reports one state for a failed job on /status and /progress", async () => {
    const t = await tenant();
    const { job } = await uploadAndWait(t, "bad.csv", "name,date,amount\nx,2025-01-01,1\n");
    const progress = await json(await call("GET", `/api/engine/jobs/${job.job_id}/progress`, { token: t.owner.token }));
    expect(job.status).toBe("failed");
    expect({ status: progress.status, pct: progress.pct }).toEqual({ status: job.status, pct: job.pct });
  });
});

describe("deleting a project", { timeout: 30_000 }, () => {
  it("removes every stored byte of it: R2 files, purchase history and job progress", async () => {
    const t = await tenant();
    const other = await tenant();
    const { accepted, job } = await uploadAndWait(t, "orders.csv", "customer_id,order_date,amount\nA,2025-01-01,10\nB,2025-01-02,5\n");
    const api = await ingest(t.apiKey.key, t.project.id, [{ customer_id: "C", order_date: "2025-01-03", amount: 1 }]);
    await waitForJob(t.apiKey.key, api.job_id);
    const kept = await uploadAndWait(other, "orders.csv", "customer_id,order_date,amount\nZ,2025-01-01,10\n");
    const history = env.PURCHASE_HISTORY.get(env.PURCHASE_HISTORY.idFromName(t.project.id));
    expect(await history.warm({ projectId: t.project.id, maxLines: 1_500_000 })).toMatchObject({ lines: 3 });
    const progress = env.JOB_PROGRESS.get(env.JOB_PROGRESS.idFromName(job.job_id));
    expect(await progress.latest()).not.toBeNull();
    expect((await env.FILES.list({ prefix: `projects/${t.project.id}/` })).objects).toHaveLength(2);

    expect((await call("DELETE", `/api/projects/${t.project.id}`, { token: t.owner.token })).status).toBe(204);

    expect((await env.FILES.list({ prefix: `projects/${t.project.id}/` })).objects).toEqual([]);
    expect(await progress.latest()).toBeNull();
    expect(await env.JOB_PROGRESS.get(env.JOB_PROGRESS.idFromName(api.job_id)).latest()).toBeNull();
    const rows = await runInDurableObject(history, (_, state) =>
      state.storage.sql
        .exec("SELECT name FROM sqlite_master WHERE type = 'table'")
        .toArray()
        .reduce((sum, t) => sum + Number(state.storage.sql.exec(`SELECT COUNT(*) AS n FROM "${String(t.name)}"`).one().n), 0),
    );
    // The purchase history's tables are left empty.
    expect(rows).toBe(0);
    expect(await countRows("SELECT COUNT(*) AS n FROM transactions WHERE project_id = ?", t.project.id)).toBe(0);
    expect(accepted.file_id).toBeTruthy();
    // Another tenant's bytes stay.
    expect((await env.FILES.list({ prefix: `projects/${other.project.id}/` })).objects).toHaveLength(1);
    expect(kept.job.status).toBe("completed");
  });
});
