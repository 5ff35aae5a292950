import type { Context } from "hono";
import { database } from "../../db/client";
import type { AppEnv } from "../../env";
import { sessionOf } from "../../middleware/auth";
import { MANAGERS, requireMembership } from "../../services/organizations";

/** Billing is for owners and admins: a member gets 403, anyone else 404. */
export async function managedOrganization(c: Context<AppEnv, any, any>, orgId: string) {
  const db = database(c.env.DB);
  const { organization } = await requireMembership(db, sessionOf(c).user.id, orgId, MANAGERS);
  return { db, d1: c.env.DB, organization };
}

/** Where Stripe sends the user back: APP_URL when set, else this API's origin. */
export const returnUrl = (c: Context<AppEnv, any, any>) => `${(c.env.APP_URL ?? new URL(c.req.url).origin).replace(/\/+$/, "")}/billing`;
