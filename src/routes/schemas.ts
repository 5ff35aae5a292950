import { z } from "@hono/zod-openapi";

/** Path and body pieces shared by several resources. */
export const OrganizationIdParam = z.object({
  orgId: z.string().min(1).max(64).openapi({ param: { name: "orgId", in: "path" }, example: "org_01JD3Q8Z5XK6W7Y8Z9A0B1C2D3" }),
});
export const ProjectIdParam = z.object({
  projectId: z.string().min(1).max(64).openapi({ param: { name: "projectId", in: "path" }, example: "proj_01JD3Q8Z5XK6W7Y8Z9A0B1C2D3" }),
});

/** `?page=&limit=` of every list; any other query parameter is a 400. */
export const PageQuery = z
  .object({
    page: z.coerce.number().int().min(1).max(1_000_000).default(1).openapi({ description: "1-based page" }),
    limit: z.coerce.number().int().min(1).max(500).default(50).openapi({ description: "Items per page (1–500)" }),
  })
  .strict();

/** A page of a list: the items under `key`, the total and the page count (0 when empty). */
export const pagedList = <K extends string, T extends z.ZodType>(key: K, item: T) =>
  z.object({ [key]: z.array(item), total: z.number().int(), page: z.number().int(), pages: z.number().int() } as { [P in K]: z.ZodArray<T> } & {
    total: z.ZodNumber;
    page: z.ZodNumber;
    pages: z.ZodNumber;
  });

export const Timestamp = z.string().openapi({ format: "date-time", example: "2026-06-07T10:00:00.000Z" });

/** A name a person types: trimmed, not blank. */
export const DisplayName = (max = 120) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max);

export const jsonBody = <T extends z.ZodType>(schema: T, description?: string) => ({
  required: true,
  description,
  content: { "application/json": { schema } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** A 201: the created resource, and its URL in `Location`. */
export const createdResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  ...jsonResponse(schema, description),
  headers: { Location: { description: "The created resource's URL", schema: { type: "string" as const } } },
});

/** A 202: the job that does the work, and its status URL in `Location`. */
export const acceptedResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  ...jsonResponse(schema, description),
  headers: { Location: { description: "The job's status URL (`/api/engine/jobs/{job_id}/status`)", schema: { type: "string" as const } } },
});

/** Where a queued job is followed: the `Location` of every 202. */
export const jobStatusPath = (jobId: string) => `/api/engine/jobs/${jobId}/status`;
