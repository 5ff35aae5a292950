import { fromBase64, fromHex, toBase64 } from "./crypto";

/**
 * Sealing of stored secrets with AES-256-GCM. A sealed value reads `v<version>.<iv>.<ciphertext>`
 * (base64): a fresh 96-bit IV per value, the caller's associated data (e.g. the owning record's id)
 * bound into the tag so a value copied to another record does not open, and the key version so keys
 * can be rotated: the first key of the ring seals, any key of the ring opens.
 */
export type KeyRing = { current: { version: number; key: CryptoKey }; byVersion: Map<number, CryptoKey> };

export class SecretBoxError extends Error {}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const SEALED = /^v(\d+)\.([A-Za-z0-9+/=]+)\.([A-Za-z0-9+/=]+)$/;

const rings = new Map<string, Promise<KeyRing>>();

/** The key ring from its configuration, `version:hex64` pairs separated by commas (cached per isolate). */
export function keyRing(configured: string | undefined): Promise<KeyRing> {
  if (!configured?.trim()) return Promise.reject(new SecretBoxError("no encryption key is configured"));
  let ring = rings.get(configured);
  if (!ring) {
    ring = importRing(configured);
    ring.catch(() => rings.delete(configured));
    rings.set(configured, ring);
  }
  return ring;
}

async function importRing(configured: string): Promise<KeyRing> {
  const byVersion = new Map<number, CryptoKey>();
  let current: KeyRing["current"] | undefined;
  for (const entry of configured.split(",").map((e) => e.trim()).filter(Boolean)) {
    const match = /^(\d{1,6}):([0-9a-fA-F]{64})$/.exec(entry);
    if (!match) throw new SecretBoxError("an encryption key must be `version:` and 64 hex digits");
    const version = Number(match[1]);
    if (byVersion.has(version)) throw new SecretBoxError(`encryption key version ${version} appears twice`);
    const key = await crypto.subtle.importKey("raw", fromHex(match[2]!), "AES-GCM", false, ["encrypt", "decrypt"]);
    byVersion.set(version, key);
    current ??= { version, key };
  }
  if (!current) throw new SecretBoxError("no encryption key is configured");
  return { current, byVersion };
}

export async function seal(ring: KeyRing, plaintext: string, associatedData: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(associatedData) },
    ring.current.key,
    encoder.encode(plaintext),
  );
  return `v${ring.current.version}.${toBase64(iv)}.${toBase64(new Uint8Array(ciphertext))}`;
}

export async function open(ring: KeyRing, sealed: string, associatedData: string): Promise<string> {
  const match = SEALED.exec(sealed);
  if (!match) throw new SecretBoxError("not a sealed value");
  const key = ring.byVersion.get(Number(match[1]));
  if (!key) throw new SecretBoxError(`no key of version ${match[1]} to open the value`);
  try {
    const plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64(match[2]!), additionalData: encoder.encode(associatedData) },
      key,
      fromBase64(match[3]!),
    );
    return decoder.decode(plaintext);
  } catch {
    throw new SecretBoxError("the value does not open with its key and associated data");
  }
}

/** The key version a sealed value was made with (to find values still under an old key). */
export function sealedVersion(sealed: string): number | null {
  const match = SEALED.exec(sealed);
  return match ? Number(match[1]) : null;
}
