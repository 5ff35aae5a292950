import { z } from "@hono/zod-openapi";
import { memberRoles } from "../../db/schema";
import { planIds } from "../../billing/plans";
import { DisplayName, pagedList, Timestamp } from "../schemas";

export const CreateOrganizationBody = z
  .object({
    name: DisplayName().openapi({ example: "Acme Retail" }),
    slug: z
      .string()
      .regex(/^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/, "lower-case letters, digits and inner hyphens, at most 48")
      .optional()
      .openapi({ example: "acme-retail", description: "Derived from the name when omitted" }),
  })
  .openapi("CreateOrganizationRequest");

export const Organization = z
  .object({
    id: z.string().openapi({ example: "org_01JD3Q8Z5XK6W7Y8Z9A0B1C2D3" }),
    name: z.string(),
    slug: z.string(),
    plan: z.enum(planIds).openapi({ description: "The plan whose quotas apply now (its subscription: GET …/subscription)" }),
    role: z.enum(memberRoles).openapi({ description: "The caller's role in this organization" }),
    createdAt: Timestamp,
  })
  .openapi("Organization");

export const OrganizationList = pagedList("organizations", Organization).openapi("OrganizationList");
