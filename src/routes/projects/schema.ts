import { z } from "@hono/zod-openapi";
import { DisplayName, pagedList, Timestamp } from "../schemas";

export const Project = z
  .object({
    id: z.string().openapi({ example: "proj_01JD3Q8Z5XK6W7Y8Z9A0B1C2D3" }),
    organizationId: z.string(),
    name: z.string(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("Project");

export const ProjectList = pagedList("projects", Project).openapi("ProjectList");

export const ProjectBody = z.object({ name: DisplayName().openapi({ example: "Web shop" }) }).openapi("ProjectRequest");
