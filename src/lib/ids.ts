const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A ULID: 48-bit millisecond time then 80 random bits, Crockford base32, sortable by creation. */
export function ulid(now = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const random = crypto.getRandomValues(new Uint8Array(16));
  let tail = "";
  for (const byte of random) tail += CROCKFORD[byte % 32];
  return time + tail;
}

export const newOrganizationId = () => `org_${ulid()}`;
export const newProjectId = () => `proj_${ulid()}`;
export const newId = () => crypto.randomUUID();

/** Four lower-case base32 characters, to make a taken slug unique. */
export const randomSuffix = () => ulid().slice(-4).toLowerCase();
