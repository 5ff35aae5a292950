import writeXlsxFile from "write-excel-file/universal";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectError, json, tenant } from "../helpers";
import { customerRows, upload, waitForJob } from "./helpers";

async function uploadAndWait(t: Awaited<ReturnType<typeof tenant>>, name: string, content: string | ArrayBuffer | Uint8Array, mapping?: unknown, type?: string) {
  const res = await upload(t.owner.token, t.project.id, name, content, mapping, type);
  expect(res.status).toBe(202);
  const accepted = await json(res);
  return { accepted, job: await waitForJob(t.owner.token, accepted.job_id) };
}

describe("CSV uploads", () => {
  it("reads a BOM, `;` delimiters, quoted fields, common aliases and European decimals", async () => {
    const t = await tenant();
    const csv =
      "\uFEFFCustomerID;InvoiceDate;Total;InvoiceNo;Country;Note\r\n" +
      'C1;2025-03-01;"1.234,50";INV-1;TR;"said ""hi""; left"\r\n' +
      "C1;2025-03-01;10,00;INV-1;TR;\r\n" +
      "C1;2025-03-09;5;INV-2;TR;\r\n" +
      'C2;01.04.2025;7,5;INV-3;DE;"multi\nline"\r\n';
    const { job } = await uploadAndWait(t, "orders.csv", csv);
    expect(job.status).toBe("completed");
    expect(job.result).toMatchObject({
      rows_total: 4,
      rows_accepted: 4,
      columns: { customer_id: "CustomerID", order_date: "InvoiceDate", amount: "Total", order_id: "InvoiceNo", extra_features: ["Country", "Note"] },
    });
    const [c1, c2] = await customerRows(t.project.id);
    // Two lines of invoice INV-1 are one order.
    expect(c1).toMatchObject({ customer_id: "C1", frequency: 2, purchase_days: 2, monetary_cents: 124950 });
    expect(c2).toMatchObject({ customer_id: "C2", frequency: 1, monetary_cents: 750 });
    expect(JSON.parse(c2!.extra_features)).toEqual({ Country: "DE", Note: "multi\nline" });
  });

  it("takes an explicit mapping and date format for columns it cannot guess", async () => {
    const t = await tenant();
    const csv = "Kunde,Datum,Umsatz,Waehrung\nk1,03/04/2025,12.5,eur\nk2,13/04/2025,3,EUR\n";
    const mapping = { columns: { customer_id: "Kunde", order_date: "Datum", amount: "Umsatz", currency: "Waehrung" }, date_format: "DD/MM/YYYY" };
    const { job } = await uploadAndWait(t, "export.csv", csv, mapping);
    expect(job.result).toMatchObject({ rows_accepted: 2, rows_rejected: 0 });
    const [k1] = await customerRows(t.project.id);
    expect(new Date(k1!.first_purchase_at).toISOString().slice(0, 10)).toBe("2025-04-03");
    const { results } = await env.DB.prepare("SELECT currency FROM transactions WHERE project_id = ?").bind(t.project.id).all();
    expect(results.map((r) => r.currency)).toEqual(["EUR", "EUR"]);
  });

  it("rejects ambiguous slash dates without a date_format, future dates and bad numbers, and keeps the good rows", async () => {
    const t = await tenant();
    const future = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    const csv = `customer_id,order_date,amount\na,03/04/2025,1\nb,12/31/2025,1\nc,${future},1\nd,20250230,1\ne,20250228,1e3\nf,20250228,0\n`;
    const { job } = await uploadAndWait(t, "x.csv", csv);
    expect(job.result.rows_accepted).toBe(2);
    expect(job.result.rejections.map((r: { row: number; reason: string }) => [r.row, r.reason.split(" ")[0] + " …" + r.reason.slice(-20)])).toHaveLength(4);
    const reasons = job.result.rejections.map((r: { reason: string }) => r.reason);
    expect(reasons[0]).toMatch(/ambiguous.*date_format/);
    expect(reasons[1]).toMatch(/in the future/);
    expect(reasons[2]).toMatch(/not a valid date/);
    expect(reasons[3]).toMatch(/not a number/);
  });

  it("derives the amount from unit price × quantity and treats negative quantities as returns", async () => {
    const t = await tenant();
    const csv = "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n536365,A,6,2010-12-01 08:26,2.55,17850\nC536379,A,-1,2010-12-01 09:41,2.55,17850\n";
    const { job } = await uploadAndWait(t, "online-retail.csv", csv);
    expect(job.result.rows_accepted).toBe(2);
    const [c] = await customerRows(t.project.id);
    expect(c).toMatchObject({ frequency: 1, purchases_cents: 1530, returns_cents: 255, return_count: 1, monetary_cents: 1275 });
  });

  it("fails the job with a clear message for unusable files, writing nothing", async () => {
    const t = await tenant();
    const cases: Array<[string, string, RegExp]> = [
      ["no-customer.csv", "name,date,amount\nx,2025-01-01,1\n", /no recognisable customer_id column.*"name"/],
      ["header-only.csv", "customer_id,order_date,amount\n", /no data rows/],
      ["malformed.csv", 'customer_id,order_date,amount\nx,2025-01-01,"12\n', /malformed CSV: unterminated quoted field/],
      ["all-bad.csv", "customer_id,order_date,amount\nx,2025-01-01,abc\n", /no valid rows/],
    ];
    for (const [name, csv, message] of cases) {
      const { accepted, job } = await uploadAndWait(t, name, csv);
      expect(job.status, name).toBe("failed");
      expect(job.error_message, name).toMatch(message);
      const file = await json(await call("GET", `/api/engine/files/${accepted.file_id}`, { token: t.owner.token }));
      expect(file.status).toBe("failed");
    }
    expect(await customerRows(t.project.id)).toEqual([]);
  }, 30_000);

  it("answers 400 for an empty file, a missing file field or a bad mapping, and 415 for other formats", async () => {
    const t = await tenant();
    await expectError(await upload(t.owner.token, t.project.id, "empty.csv", ""), 400, "validation_error");
    await expectError(await upload(t.owner.token, t.project.id, "a.csv", "customer_id\n", "{not json"), 400, "validation_error");
    const badMapping = await expectError(await upload(t.owner.token, t.project.id, "a.csv", "customer_id\n", { columns: { nope: "x" } }), 400, "validation_error");
    expect(badMapping.detail[0].path).toMatch(/^mapping/);
    await expectError(await upload(t.owner.token, t.project.id, "a.pdf", "%PDF-1.4", undefined, "application/pdf"), 415, "unsupported_media_type");
    const form = new FormData();
    form.append("mapping", "{}");
    await expectError(await call("POST", `/api/engine/projects/${t.project.id}/files`, { token: t.owner.token, body: form }), 400, "validation_error");
    await expectError(await call("POST", `/api/engine/projects/${t.project.id}/files`, { token: t.owner.token, body: { file: "x" } }), 415, "unsupported_media_type");
    const files = await json(await call("GET", `/api/engine/projects/${t.project.id}/files`, { token: t.owner.token }));
    expect(files.files).toEqual([]);
  });
});

describe("XLSX uploads", () => {
  it("reads the first sheet, with date cells and numbers", async () => {
    const t = await tenant();
    const blob = await writeXlsxFile([
      ["Customer ID", "Order Date", "Amount", "Segment"],
      ["X1", new Date(Date.UTC(2025, 5, 1)), 19.99, "retail"],
      ["X1", "2025-06-15", 5, "retail"],
      ["X2", new Date(Date.UTC(2025, 5, 2)), 100, "b2b"],
    ], { dateFormat: "yyyy-mm-dd" }).toBlob();
    const { job } = await uploadAndWait(t, "orders.xlsx", await blob.arrayBuffer(), undefined, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    expect(job.status).toBe("completed");
    expect(job.result).toMatchObject({ rows_accepted: 3, customers: 2 });
    const [x1, x2] = await customerRows(t.project.id);
    expect(x1).toMatchObject({ frequency: 2, monetary_cents: 2499 });
    expect(new Date(x1!.first_purchase_at).toISOString()).toBe("2025-06-01T00:00:00.000Z");
    expect(JSON.parse(x2!.extra_features)).toEqual({ Segment: "b2b" });
  });

  it("fails the job for a corrupt workbook", async () => {
    const t = await tenant();
    const corrupt = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4, 5, 6, 7, 8]);
    const { job } = await uploadAndWait(t, "broken.xlsx", corrupt);
    expect(job.status).toBe("failed");
    expect(job.error_message).toMatch(/not a readable XLSX/);
  });
});

describe("files", () => {
  it("lists and gets files; deleting one takes its rows out of the aggregates", async () => {
    const t = await tenant();
    const first = await uploadAndWait(t, "a.csv", "customer_id,order_date,amount\nA,2025-01-01,10\nB,2025-01-01,5\n");
    const second = await uploadAndWait(t, "b.csv", "customer_id,order_date,amount\nA,2025-02-01,20\n");
    const list = await json(await call("GET", `/api/engine/projects/${t.project.id}/files`, { token: t.apiKey.key }));
    expect(list.files.map((f: { filename: string }) => f.filename)).toEqual(["b.csv", "a.csv"]);
    expect(list.files[1]).toMatchObject({ status: "completed", rowCount: 2, rowsAccepted: 2, rowsRejected: 0, sizeBytes: 61 });
    expect((await customerRows(t.project.id)).find((c) => c.customer_id === "A")).toMatchObject({ frequency: 2, monetary_cents: 3000 });

    expect((await call("DELETE", `/api/engine/files/${first.accepted.file_id}`, { token: t.owner.token })).status).toBe(204);
    const after = await customerRows(t.project.id);
    expect(after.map((c) => c.customer_id)).toEqual(["A"]);
    expect(after[0]).toMatchObject({ frequency: 1, monetary_cents: 2000 });
    await expectError(await call("GET", `/api/engine/files/${first.accepted.file_id}`, { token: t.owner.token }), 404, "not_found");
    expect(second.job.status).toBe("completed");
  });

  it("keeps other tenants' files out of reach (404) and uploads to sessions (403 for keys)", async () => {
    const a = await tenant();
    const b = await tenant();
    const { accepted } = await uploadAndWait(b, "b.csv", "customer_id,order_date,amount\nA,2025-01-01,10\n");
    await expectError(await call("GET", `/api/engine/files/${accepted.file_id}`, { token: a.owner.token }), 404, "not_found");
    await expectError(await call("GET", `/api/engine/files/${accepted.file_id}`, { token: a.apiKey.key }), 404, "not_found");
    await expectError(await call("DELETE", `/api/engine/files/${accepted.file_id}`, { token: a.owner.token }), 404, "not_found");
    await expectError(await call("GET", `/api/engine/projects/${b.project.id}/files`, { token: a.owner.token }), 404, "not_found");
    await expectError(await upload(a.owner.token, b.project.id, "x.csv", "customer_id\n"), 404, "not_found");
    await expectError(await upload(a.apiKey.key, a.project.id, "x.csv", "customer_id\n"), 403, "session_required");
    expect((await call("GET", `/api/engine/files/${accepted.file_id}`, { token: b.owner.token })).status).toBe(200);
  });

  it("refuses an upload over the plan's storage (429 quota_exceeded)", async () => {
    const t = await tenant();
    await env.DB.prepare(
      "INSERT INTO files (id, project_id, organization_id, source, format, filename, r2_key, size_bytes, status, created_at, updated_at) VALUES (?, ?, ?, 'upload', 'csv', 'big.csv', 'k', ?, 'completed', 0, 0)",
    )
      .bind(crypto.randomUUID(), t.project.id, t.organization.id, 0.5 * 1024 ** 3)
      .run();
    await expectError(await upload(t.owner.token, t.project.id, "x.csv", "customer_id,order_date,amount\nA,2025-01-01,1\n"), 429, "quota_exceeded");
  });
});
