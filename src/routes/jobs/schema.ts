import { z } from "@hono/zod-openapi";
import { jobStatuses, jobTypes } from "../../db/schema";
import { pagedList, PageQuery, Timestamp } from "../schemas";

export const JobIdParam = z.object({
  jobId: z.string().min(1).max(64).openapi({ param: { name: "jobId", in: "path" }, example: "8f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f" }),
});

export const Progress = z
  .object({
    job_id: z.string(),
    status: z.enum(jobStatuses),
    pct: z.number().int().min(0).max(100),
    message: z.string().nullable(),
  })
  .openapi("JobProgress");

export const JobStatusRecord = z
  .object({
    job_id: z.string(),
    type: z.enum(jobTypes),
    status: z.enum(jobStatuses),
    pct: z.number().int(),
    message: z.string().nullable(),
    project_id: z.string(),
    file_id: z.string().nullable(),
    result: z.record(z.string(), z.unknown()).nullable().openapi({
      description:
        "Ingest: rows_total, rows_accepted (stored), rows_rejected, rows_duplicate, rejections (first 100: {row, reason}), duplicates (first 100: {row, order_id, reason}), " +
        "customers, columns, and model_run: `{job_id, queued: true}` or `{job_id: null, queued: false, reason, quota}` when the plan's model runs are used up",
    }),
    error_message: z.string().nullable(),
    attempts: z.number().int(),
    created_at: Timestamp,
    started_at: Timestamp.nullable(),
    finished_at: Timestamp.nullable(),
    updated_at: Timestamp,
  })
  .openapi("JobStatus");

export const ProjectJobsQuery = PageQuery.extend({
  type: z.enum(jobTypes).optional(),
  status: z.enum(jobStatuses).optional(),
}).strict();

export const ProjectJob = z
  .object({
    job_id: z.string(),
    type: z.enum(jobTypes),
    status: z.enum(jobStatuses),
    file_id: z.string().nullable(),
    error_message: z.string().nullable(),
    created_at: Timestamp,
    finished_at: Timestamp.nullable(),
  })
  .openapi("ProjectJob");

export const ProjectJobPage = pagedList("jobs", ProjectJob).openapi("ProjectJobPage");
