/**
 * Merchant-presented codes and identifiers.
 *
 * An order code is `<CODE_BASE_URL>/o/<token>`, an entry code `<CODE_BASE_URL>/e/<token>`; the token is
 * 128 random bits in base64url (22 characters), so codes are unguessable and every order gets its own.
 */
import { randomFillSync } from 'node:crypto';

/**
 * `count` bytes from the system's CSPRNG, taken from a pool refilled 4 KiB at a time (as Node does for
 * randomUUID): one call per few hundred ids instead of one each (~5 µs per call on these VMs). Each
 * byte is handed out once.
 */
function randomBytes(count: number): Buffer {
  if (poolOffset + count > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + count));
  poolOffset += count;
  return bytes;
}
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

export type CodeKind = 'ORDER_CODE' | 'ENTRY_CODE';

const SEGMENT: Record<CodeKind, string> = { ORDER_CODE: 'o', ENTRY_CODE: 'e' };
const TOKEN = /^[A-Za-z0-9_-]{22}$/;

export function newCodeToken(): string {
  return randomBytes(16).toString('base64url');
}

export function codeValue(baseUrl: string, kind: CodeKind, token: string): string {
  return `${baseUrl}/${SEGMENT[kind]}/${token}`;
}

/** Reads a scanned codeValue; null when it is not a code this gateway issued under `baseUrl`. */
export function parseCodeValue(baseUrl: string, value: string): { kind: CodeKind; token: string } | null {
  if (!value.startsWith(`${baseUrl}/`)) return null;
  const [segment, token, ...rest] = value.slice(baseUrl.length + 1).split('/');
  if (rest.length > 0 || !token || !TOKEN.test(token)) return null;
  if (segment === SEGMENT.ORDER_CODE) return { kind: 'ORDER_CODE', token };
  if (segment === SEGMENT.ENTRY_CODE) return { kind: 'ENTRY_CODE', token };
  return null;
}

/**
 * A new paymentRequestId (≤ 64 chars): a millisecond timestamp so that ids sort by creation, then 80
 * random bits. Example: `pr_018f2c3a9b1c_4kq7t9x2m3n5p8r1w6y0`.
 */
export function newPaymentRequestId(now: Date = new Date()): string {
  return `pr_${now.getTime().toString(16).padStart(12, '0')}_${randomBytes(10).toString('hex')}`;
}

export function newId(prefix: 'mch' | 'sto'): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

/** A merchant API key: shown once, stored only as its SHA-256 hash. */
export function newApiKey(): string {
  return `acqp_sk_${randomBytes(24).toString('base64url')}`;
}
