import { createRoute } from "@hono/zod-openapi";
import { ApiError, authErrorResponses, errorResponse, invalidField } from "../../errors";
import { database } from "../../db/client";
import { ColumnMapping } from "../../ingest/columns";
import { principalOf } from "../../middleware/auth";
import { acceptFile } from "../../services/files";
import { projectForPrincipal } from "../../services/access";
import { assertStorageQuota } from "../../services/quotas";
import { Accepted } from "../ingest/schema";
import { parseJsonParam } from "../json-param";
import { auth, type Router } from "../router";
import { acceptedResponse, jobStatusPath, ProjectIdParam } from "../schemas";
import { UploadForm } from "./schema";

const route = createRoute({
  method: "post",
  path: "/projects/{projectId}/files",
  operationId: "uploadFile",
  tags: ["Files"],
  summary: "Upload a CSV or XLSX file of transactions",
  description:
    "Multipart form with `file`, an optional `mapping` and an optional `force`. The same content twice in a project is refused (409) unless `force=true`. Stored in R2 and queued: 202 with the job to follow. " +
    "Columns are recognised by name (`customer_id`, `order_date`, `amount` and common aliases) unless the mapping names them.",
  ...auth.session(),
  request: {
    params: ProjectIdParam,
    body: { required: true, content: { "multipart/form-data": { schema: UploadForm } } },
  },
  responses: {
    202: acceptedResponse(Accepted, "Queued"),
    409: errorResponse("The project already has a file with the same content (`duplicate_file`, detail names it); send `force=true` to store it again"),
    415: errorResponse("Not a CSV or XLSX file (`unsupported_media_type`)"),
    ...authErrorResponses,
    429: errorResponse("Rate limited (`rate_limited`) or the plan's storage is used up (`quota_exceeded`)"),
  },
});

const XLSX_MAGIC = [0x50, 0x4b, 0x03, 0x04];

function formatOf(file: File, head: Uint8Array): "csv" | "xlsx" | null {
  const name = file.name.toLowerCase();
  if (XLSX_MAGIC.every((byte, i) => head[i] === byte)) return name.endsWith(".xls") ? null : "xlsx";
  if (/\.(csv|tsv|txt)$/.test(name) || /^text\/(csv|plain|tab-separated-values)/.test(file.type)) return "csv";
  return null;
}

export function registerUploadFile(app: Router) {
  app.openapi(
    route,
    async (c) => {
      const db = database(c.env.DB);
      const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId);
      const { file, mapping: mappingText, force } = c.req.valid("form");
      if (!(file instanceof File)) {
        throw invalidField("file", "invalid_type", "expected a file in the multipart field `file`");
      }
      if (file.size === 0) throw invalidField("file", "too_small", "the file is empty");
      const mapping = parseJsonParam(mappingText, ColumnMapping, "mapping", c.get("locale"));
      const body = await file.arrayBuffer();
      const format = formatOf(file, new Uint8Array(body.slice(0, 4)));
      if (!format) throw new ApiError("unsupported_media_type", undefined, { expected: "text/csv or XLSX" });
      await assertStorageQuota(db, project.organizationId, body.byteLength);
      const accepted = await acceptFile(db, c.env, project, { source: "upload", format, filename: file.name || `upload.${format}`, body, mapping, force: force === "true" });
      c.header("Location", jobStatusPath(accepted.job.id));
      return c.json({ job_id: accepted.job.id, file_id: accepted.file.id, status: "processing" as const }, 202);
    },
  );
}
