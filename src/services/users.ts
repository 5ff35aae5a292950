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

export type UserRecord = typeof users.$inferSelect;

/** A new user's record, password hashed; `insertUser` writes it (with the session, in one batch). */
export async function newUser(db: Database, input: { name: string; email: string; password: string }): Promise<UserRecord> {
  const email = normalizeEmail(input.email);
  if (await findUserByEmail(db, email)) throw new ApiError("email_taken");
  return { id: newId(), name: input.name.trim(), email, passwordHash: await hashPassword(input.password), createdAt: new Date() };
}

export function insertUser(db: Database, user: UserRecord) {
  return db.insert(users).values(user);
}

/** The user whose email and password match, or invalid_credentials; equally slow either way. */
export async function authenticateUser(db: Database, email: string, password: string) {
  const user = await findUserByEmail(db, email);
  const valid = await verifyPassword(password, user?.passwordHash ?? decoyPasswordHash);
  if (!user || !valid) throw new ApiError("invalid_credentials");
  return user;
}
