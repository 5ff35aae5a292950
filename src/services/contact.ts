import type { Database } from "../db/client";
import { contactMessages } from "../db/schema";
import { sha256Hex } from "../lib/crypto";
import { newId } from "../lib/ids";

export async function saveContactMessage(db: Database, input: { name: string; email: string; message: string }, ip: string) {
  const record = {
    id: newId(),
    name: input.name.trim(),
    email: input.email.trim().toLowerCase(),
    message: input.message.trim(),
    ipHash: await sha256Hex(`contact:${ip}`),
    createdAt: new Date(),
  };
  await db.insert(contactMessages).values(record);
  return record;
}
