import { z } from "@hono/zod-openapi";
import { DisplayName, pagedList, ProjectIdParam, Timestamp } from "../schemas";

export const ApiKey = z
  .object({
    id: z.string().openapi({ example: "f0e9c8b7-6a5b-4c3d-8e9f-0a1b2c3d4e5f" }),
    name: z.string().openapi({ example: "Production ingest" }),
    keyPrefix: z.string().openapi({ example: "sk_live_a1b2c3" }),
    enabled: z.boolean(),
    expiresAt: Timestamp.nullable(),
    lastUsedAt: Timestamp.nullable(),
    createdAt: Timestamp,
  })
  .openapi("ApiKey");

export const CreatedApiKey = ApiKey.extend({
  key: z.string().openapi({ description: "The raw key. Returned only at creation; store it now.", example: "sk_live_a1b2c3…" }),
}).openapi("CreatedApiKey");

export const ApiKeyList = pagedList("apiKeys", ApiKey).openapi("ApiKeyList");

export const CreateApiKeyBody = z
  .object({
    name: DisplayName().openapi({ example: "Production ingest" }),
    expiresAt: z.iso
      .datetime({ offset: true })
      .nullable()
      .optional()
      .refine((value) => value == null || Date.parse(value) > Date.now(), "expiresAt must be in the future")
      .openapi({ example: "2027-01-01T00:00:00Z" }),
  })
  .openapi("CreateApiKeyRequest");

export const UpdateApiKeyBody = z
  .object({ name: DisplayName().optional(), enabled: z.boolean().optional() })
  .refine((body) => body.name !== undefined || body.enabled !== undefined, "give name, enabled or both")
  .openapi("UpdateApiKeyRequest");

export const ApiKeyParams = ProjectIdParam.extend({
  keyId: z.string().min(1).max(64).openapi({ param: { name: "keyId", in: "path" } }),
});
