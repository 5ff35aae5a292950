import { z } from "@hono/zod-openapi";
import { memberRoles } from "../../db/schema";
import { Email } from "../auth/schema";
import { OrganizationIdParam, pagedList, Timestamp } from "../schemas";

export const Role = z.enum(memberRoles).openapi({ example: "member" });

export const Member = z
  .object({ userId: z.string(), name: z.string(), email: z.string(), role: Role, createdAt: Timestamp })
  .openapi("Member");

export const MemberList = pagedList("members", Member).openapi("MemberList");

export const AddMemberBody = z
  .object({ email: Email.openapi({ description: "An existing user's email" }), role: Role })
  .openapi("AddMemberRequest");

export const ChangeRoleBody = z.object({ role: Role }).openapi("ChangeMemberRoleRequest");

export const MemberParams = OrganizationIdParam.extend({
  userId: z.string().min(1).max(64).openapi({ param: { name: "userId", in: "path" } }),
});
