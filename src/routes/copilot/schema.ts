import { z } from "@hono/zod-openapi";
import { copilotEngines } from "../../db/schema";
import { locales } from "../../i18n";
import { Conditions } from "../../services/customer-filters";
import { DisplayName } from "../schemas";
import { Preview, Segment } from "../segments/schema";

export const CopilotBody = z
  .object({
    prompt: z.string().trim().min(1).max(1000).openapi({
      description: "Who the segment should hold, in English or Turkish (the grammar is in the README)",
      example: "customers who spent more than 500 and ordered at least 3 times in the last 90 days with high churn risk in TR",
    }),
    locale: z.enum(locales).optional().openapi({ description: "Language of the explanation; the Accept-Language header's by default" }),
    save: z.object({ name: DisplayName() }).strict().optional().openapi({ description: "Also create a rule segment with these rules (a session only)" }),
  })
  .strict()
  .openapi("CopilotRequest");

export const CopilotAnswer = z
  .object({
    rules: Conditions,
    explanation: z.string().openapi({ description: "What the rules select, written from the rules themselves" }),
    preview: Preview,
    model: z.string().openapi({ example: "segmento-grammar-v1" }),
    engine: z.enum(copilotEngines),
    segment: Segment.optional().openapi({ description: "The created segment, when `save` was given" }),
  })
  .openapi("CopilotAnswer");
