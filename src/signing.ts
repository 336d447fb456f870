/**
 * The one place where Alipay+ signatures are built, parsed and verified (reference §2).
 *
 * Content signed in both directions: `POST <path>\n<Client-Id>.<Request-Time|Response-Time>.<raw body>`,
 * SHA256withRSA (PKCS#1 v1.5), base64, then URL-encoded. Keys are parsed once into KeyObjects:
 * passing PEM text per call costs several times more per operation.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export const DEFAULT_KEY_VERSION = '1';

export interface SignatureHeader {
  algorithm: string;
  keyVersion: string;
  signature: string;
}

export function contentToSign(method: string, path: string, clientId: string, time: string, body: string | Buffer): Buffer {
  const head = Buffer.from(`${method} ${path}\n${clientId}.${time}.`, 'utf8');
  return Buffer.concat([head, typeof body === 'string' ? Buffer.from(body, 'utf8') : body]);
}

/**
 * Parses `algorithm=RSA256, keyVersion=1, signature=...`: pairs in any order, spaces tolerated, each
 * split on its first `=`. A missing keyVersion means version 1. Returns null when no signature is given.
 */
export function parseSignatureHeader(value: string | undefined): SignatureHeader | null {
  if (!value) return null;
  const pairs = new Map<string, string>();
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    pairs.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const signature = pairs.get('signature');
  if (!signature) return null;
  return {
    algorithm: pairs.get('algorithm') ?? 'RSA256',
    keyVersion: pairs.get('keyversion') || DEFAULT_KEY_VERSION,
    signature,
  };
}

export function formatSignatureHeader(keyVersion: string, signature: string): string {
  return `algorithm=RSA256,keyVersion=${keyVersion},signature=${signature}`;
}

export function signContent(content: Buffer, privateKey: KeyObject): string {
  return encodeURIComponent(sign('sha256', content, privateKey).toString('base64'));
}

export function verifyContent(content: Buffer, urlEncodedSignature: string, publicKey: KeyObject): boolean {
  let raw: Buffer;
  try {
    // decodeURIComponent, never a form decoder: '+' is part of base64.
    raw = Buffer.from(decodeURIComponent(urlEncodedSignature), 'base64');
  } catch {
    return false;
  }
  if (raw.length === 0) return false;
  try {
    return verify('sha256', content, publicKey, raw);
  } catch {
    return false;
  }
}

export function loadPrivateKey(pem: string): KeyObject {
  return createPrivateKey({ key: pem, format: 'pem' });
}

export function loadPublicKey(pem: string): KeyObject {
  return createPublicKey({ key: pem, format: 'pem' });
}

export type VerifyOutcome =
  | { ok: true; keyVersion: string }
  | { ok: false; reason: 'INVALID_SIGNATURE' | 'KEY_NOT_FOUND'; message: string };

/**
 * A signer for one side of the exchange: our private key and client id, the peer's public keys by
 * keyVersion. The gateway holds one (our key, Alipay+'s keys); the simulator and tests hold the mirror.
 */
export class Signer {
  constructor(
    readonly clientId: string,
    private readonly privateKey: KeyObject,
    readonly keyVersion: string,
    private readonly peerPublicKeys: ReadonlyMap<string, KeyObject>,
  ) {}

  /** Returns the `Signature` header value for a message we send. */
  sign(path: string, time: string, body: string | Buffer): string {
    return formatSignatureHeader(this.keyVersion, signContent(contentToSign('POST', path, this.clientId, time, body), this.privateKey));
  }

  /**
   * The headers of a message we send: Content-Type, Client-Id, the time (as `Request-Time` on a request,
   * `Response-Time` on a response) and the Signature over exactly `signedBytes` — normally the body sent.
   */
  signedHeaders(timeHeader: 'Request-Time' | 'Response-Time', path: string, time: string, signedBytes: string | Buffer): Record<string, string> {
    return { 'Content-Type': 'application/json; charset=UTF-8', 'Client-Id': this.clientId, [timeHeader]: time, Signature: this.sign(path, time, signedBytes) };
  }

  /** Verifies a message the peer sent us (a request to our endpoint, or a response to our call). */
  verify(path: string, time: string, body: string | Buffer, header: string | undefined): VerifyOutcome {
    const parsed = parseSignatureHeader(header);
    if (!parsed) return { ok: false, reason: 'INVALID_SIGNATURE', message: 'The Signature header is missing or has no signature.' };
    if (parsed.algorithm.toUpperCase() !== 'RSA256') {
      return { ok: false, reason: 'INVALID_SIGNATURE', message: `Unsupported signature algorithm ${parsed.algorithm}.` };
    }
    const key = this.peerPublicKeys.get(parsed.keyVersion);
    if (!key) return { ok: false, reason: 'KEY_NOT_FOUND', message: `No public key for keyVersion ${parsed.keyVersion}.` };
    const content = contentToSign('POST', path, this.clientId, time, body);
    return verifyContent(content, parsed.signature, key)
      ? { ok: true, keyVersion: parsed.keyVersion }
      : { ok: false, reason: 'INVALID_SIGNATURE', message: 'The signature is invalid.' };
  }
}

/** ISO 8601 with milliseconds and `Z`, the form we write in Request-Time / Response-Time. */
export function nowIso(now: Date = new Date()): string {
  return now.toISOString();
}
