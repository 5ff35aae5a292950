import { z } from "@hono/zod-openapi";
import { fileFormats, fileSources, fileStatuses } from "../../db/schema";
import { pagedList, Timestamp } from "../schemas";

export const DataFile = z
  .object({
    id: z.string(),
    projectId: z.string(),
    source: z.enum(fileSources),
    format: z.enum(fileFormats),
    filename: z.string(),
    status: z.enum(fileStatuses),
    sizeBytes: z.number().int(),
    rowCount: z.number().int().nullable().openapi({ description: "Data rows in the file, once read" }),
    rowsAccepted: z.number().int().nullable(),
    rowsRejected: z.number().int().nullable(),
    batchId: z.string().nullable(),
    errorMessage: z.string().nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("DataFile");

export const DataFileList = pagedList("files", DataFile).openapi("DataFileList");

export const UploadForm = z
  .object({
    file: z.any().openapi({ type: "string", format: "binary", description: "A CSV (`,` `;` or tab separated, UTF-8) or XLSX file" }),
    mapping: z.string().max(10_000).optional().openapi({
      description: "JSON ColumnMapping: `{ columns: { customer_id: \"Kunde\", ... }, date_format: \"DD/MM/YYYY\", default_currency: \"EUR\" }`",
    }),
    force: z.enum(["true", "false"]).optional().openapi({
      description: "`true` stores the file even when the project already has a file with the same content (otherwise 409 `duplicate_file`)",
    }),
  })
  .openapi("UploadForm");

export const FileIdParam = z.object({
  fileId: z.string().min(1).max(64).openapi({ param: { name: "fileId", in: "path" } }),
});
