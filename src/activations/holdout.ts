import { sha256 } from "../lib/crypto";

/**
 * Where a customer falls in an automation's population, in [0, 1): the first 32 bits of
 * SHA-256("<automationId>:<customerId>") over 2^32. Fixed per automation and customer, so a customer
 * stays in the same group on every run, and independent between automations.
 */
export async function holdoutPosition(automationId: string, customerId: string): Promise<number> {
  const digest = new DataView((await sha256(`${automationId}:${customerId}`)).buffer);
  return digest.getUint32(0) / 2 ** 32;
}

/** Control (never sent, recorded for uplift) when the position is under the holdout share. */
export async function isHoldout(automationId: string, customerId: string, holdoutPct: number): Promise<boolean> {
  return (await holdoutPosition(automationId, customerId)) < holdoutPct / 100;
}
