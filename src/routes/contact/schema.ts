import { z } from "@hono/zod-openapi";
import { Timestamp } from "../schemas";

export const ContactBody = z
  .object({
    name: z.string().trim().min(2).max(120).openapi({ example: "Ada Lovelace" }),
    email: z.email().max(254).openapi({ example: "ada@example.com" }),
    message: z.string().trim().min(10).max(5000).openapi({ example: "Segmentation job 8f1c2d3e... failed at 40% with a schema error." }),
  })
  .openapi("ContactRequest");

export const ContactReceipt = z.object({ id: z.string(), receivedAt: Timestamp }).openapi("ContactReceipt");
