/**
 * The one place where Alipay+ signatures are built, parsed and verified (reference §2).
 *
 * Content signed in both directions: `POST <path>\n<Client-Id>.<Request-Time|Response-Time>.<raw body>`,
 * SHA256withRSA (PKCS#1 v1.5), base64, then URL-encoded. Keys are parsed once into KeyObjects:
 * passing PEM text per call costs several times more per operation.
 *
 * An RSA-2048 signature costs ~0.3 ms of CPU, the largest single item of every Alipay+ exchange; the
 * gateway signs on a thread of its own (SigningThread) so that the event loop does not. Verifying is
 * ~25 µs and stays inline.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';

export const DEFAULT_KEY_VERSION = '1';

export interface SignatureHeader {
  algorithm: string;
  keyVersion: string;
  signature: string;
}

/**
 * The signed content, as text when the body is text (it is signed as UTF-8): an answer's content is
 * then encoded once, where it is signed (the signing thread), not copied between buffers on the event loop.
 */
export function contentToSign(method: string, path: string, clientId: string, time: string, body: Buffer): Buffer;
export function contentToSign(method: string, path: string, clientId: string, time: string, body: string | Buffer): SignedContent;
export function contentToSign(method: string, path: string, clientId: string, time: string, body: string | Buffer): SignedContent {
  const head = `${method} ${path}\n${clientId}.${time}.`;
  return typeof body === 'string' ? head + body : Buffer.concat([Buffer.from(head, 'utf8'), body]);
}

/** What a signature covers: bytes, or text signed as its UTF-8 bytes. */
export type SignedContent = string | Buffer;

const bytesOf = (content: SignedContent): Buffer => (typeof content === 'string' ? Buffer.from(content, 'utf8') : content);

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

/** The signature as it travels in the header: base64, then URL-encoded. */
function encodeSignature(raw: Uint8Array): string {
  return encodeURIComponent(Buffer.from(raw).toString('base64'));
}

export function signContent(content: SignedContent, privateKey: KeyObject): string {
  return encodeSignature(sign('sha256', bytesOf(content), privateKey));
}

/** Produces the URL-encoded signature of signed content. */
export type ContentSigner = (content: SignedContent) => Promise<string>;

// CommonJS source evaluated in the worker: it needs no loader (tsx or not), holds only the key and
// returns the raw signature (encoded here, by encodeSignature).
const SIGNING_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { sign } = require('node:crypto');
parentPort.on('message', ({ id, content }) => {
  try {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    parentPort.postMessage({ id, signature: sign('sha256', bytes, workerData.privateKey) });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
});`;

/**
 * One worker thread that signs with our private key. Not libuv's pool: that pool also runs SQLite and
 * file I/O, and four pool threads signing at once on a small machine take the event loop's core away
 * from it (measured slower than signing inline on 2 cores). If the thread dies, signing falls back
 * to inline, so an answer is never lost for want of a signature.
 */
export class SigningThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { content: SignedContent; resolve: (signature: string) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private alive = true;

  constructor(private readonly privateKey: KeyObject) {
    this.worker = new Worker(SIGNING_WORKER_SOURCE, { eval: true, workerData: { privateKey } });
    this.worker.unref();
    this.worker.on('message', (message: { id: number; signature?: Uint8Array; error?: string }) => {
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.signature !== undefined) waiting?.resolve(encodeSignature(message.signature));
      else waiting?.reject(new Error(`signing failed: ${message.error}`));
    });
    const dead = () => {
      this.alive = false;
      for (const [id, waiting] of this.pending) {
        this.pending.delete(id);
        waiting.resolve(signContent(waiting.content, this.privateKey));
      }
    };
    this.worker.on('error', dead);
    this.worker.on('exit', dead);
  }

  readonly sign: ContentSigner = (content) => {
    if (!this.alive) return Promise.resolve(signContent(content, this.privateKey));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject, content });
      this.worker.postMessage({ id, content });
    });
  };

  async close(): Promise<void> {
    this.alive = false;
    await this.worker.terminate();
  }
}

export function verifyContent(content: SignedContent, urlEncodedSignature: string, publicKey: KeyObject): boolean {
  let raw: Buffer;
  try {
    // decodeURIComponent, never a form decoder: '+' is part of base64.
    raw = Buffer.from(decodeURIComponent(urlEncodedSignature), 'base64');
  } catch {
    return false;
  }
  if (raw.length === 0) return false;
  try {
    return verify('sha256', bytesOf(content), publicKey, raw);
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
  private readonly signWith: ContentSigner;

  /** `signWith` defaults to signing inline; the gateway passes a SigningThread's `sign`. */
  constructor(
    readonly clientId: string,
    privateKey: KeyObject,
    readonly keyVersion: string,
    private readonly peerPublicKeys: ReadonlyMap<string, KeyObject>,
    signWith?: ContentSigner,
  ) {
    this.signWith = signWith ?? (async (content) => signContent(content, privateKey));
  }

  /** Returns the `Signature` header value for a message we send. */
  async sign(path: string, time: string, body: string | Buffer): Promise<string> {
    return formatSignatureHeader(this.keyVersion, await this.signWith(contentToSign('POST', path, this.clientId, time, body)));
  }

  /**
   * The headers of a message we send: Content-Type, Client-Id, the time (as `Request-Time` on a request,
   * `Response-Time` on a response) and the Signature over exactly `signedBytes` — normally the body sent.
   */
  async signedHeaders(timeHeader: 'Request-Time' | 'Response-Time', path: string, time: string, signedBytes: string | Buffer): Promise<Record<string, string>> {
    return { 'Content-Type': 'application/json; charset=UTF-8', 'Client-Id': this.clientId, [timeHeader]: time, Signature: await this.sign(path, time, signedBytes) };
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
