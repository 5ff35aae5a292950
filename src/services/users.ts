import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { users } from "../db/schema";
import { ApiError } from "../errors";
import { newId } from "../lib/ids";
import { decoyPasswordHash, hashPassword, verifyPassword } from "../lib/password";

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

export async function findUserByEmail(db: Database, email: string) {
  return db.select().from(users).where(eq(users.email, normalizeEmail(email))).get();
}

export async function createUser(db: Database, input: { name: string; email: string; password: string }) {
  const email = normalizeEmail(input.email);
  if (await findUserByEmail(db, email)) throw new ApiError("email_taken");
  const user = {
    id: newId(),
    name: input.name.trim(),
    email,
    passwordHash: await hashPassword(input.password),
    createdAt: new Date(),
  };
  // The unique index settles a race between two sign-ups with the same email.
  const inserted = await db.insert(users).values(user).onConflictDoNothing().returning().get();
  if (!inserted) throw new ApiError("email_taken");
  return inserted;
}

/** The user whose email and password match, or invalid_credentials; equally slow either way. */
export async function authenticateUser(db: Database, email: string, password: string) {
  const user = await findUserByEmail(db, email);
  const valid = await verifyPassword(password, user?.passwordHash ?? decoyPasswordHash);
  if (!user || !valid) throw new ApiError("invalid_credentials");
  return user;
}
