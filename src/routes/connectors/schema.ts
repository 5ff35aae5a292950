import { z } from "@hono/zod-openapi";
import { channels, channelTypes, type ChannelType } from "../../activations/channels";
import { DisplayName, pagedList, Timestamp } from "../schemas";

export const ConnectorIdParam = z.object({
  connectorId: z.string().min(1).max(64).openapi({ param: { name: "connectorId", in: "path" } }),
});

const connectorInput = (type: ChannelType) =>
  z.object({ type: z.literal(type), name: DisplayName().openapi({ example: "Newsletter" }), config: channels[type].config }).openapi(`Create${type.replace(/(^|_)(\w)/g, (_, __, ch: string) => ch.toUpperCase())}Connector`);

export const CreateConnectorBody = z
  .discriminatedUnion("type", channelTypes.map(connectorInput) as unknown as [ReturnType<typeof connectorInput>, ...ReturnType<typeof connectorInput>[]])
  .openapi("CreateConnectorRequest", {
    description: "A channel and its fields (the seed's table). Secret fields are sealed with AES-256-GCM and read back as [REDACTED].",
  });
export type CreateConnectorBody = z.infer<typeof CreateConnectorBody>;

export const UpdateConnectorBody = z
  .object({
    name: DisplayName().optional(),
    config: z
      .record(z.string().min(1).max(64), z.string().max(4096).nullable())
      .optional()
      .openapi({ description: "Fields to change. Fields left out are kept, secrets included; a secret sent as [REDACTED] is kept; null removes an optional field." }),
  })
  .refine((body) => body.name !== undefined || body.config !== undefined, "give name, config or both")
  .openapi("UpdateConnectorRequest");

export const Connector = z
  .object({
    id: z.string(),
    project_id: z.string(),
    name: z.string(),
    type: z.enum(channelTypes),
    config: z.record(z.string(), z.unknown()).openapi({ description: "The channel's fields; secrets as [REDACTED]" }),
    last_test: z.object({ tested_at: Timestamp, ok: z.boolean(), error: z.string().nullable() }).nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Connector");

export const ConnectorList = pagedList("connectors", Connector).openapi("ConnectorList");

export const ConnectorTestResult = z.object({ ok: z.literal(true), tested_at: Timestamp }).openapi("ConnectorTestResult");
