import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contentToSign, loadPrivateKey, loadPublicKey, parseSignatureHeader, Signer, SigningThread, signContent, verifyContent } from '../../src/signing.js';
import { ACQP_KEYS, ALIPAYPLUS_KEYS, ALIPAYPLUS_KEYS_V2 } from '../support/keys.js';

// Reference §2.7: a vector made with a throwaway key, to pin the content layout and the encodings.
const VECTOR_PUBLIC_KEY = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAk1HYblMVZdMOEzUhu7t+
dKS/fV//fw1+ozF3ck9bJcNry1cHaG1oaIxviG2dmHbiWOiUO8+GbVPXVnHyOHIl
LqBdVLRT/6S+DgurIOcfLnIRtVLKMliaHG5yZxmAgm7VWxI6wm8/4YNXPJcGEnw4
lt6Kx3JTeEECuwax7P+M2NCS6/mopRaqLVNLIGXEiUg3OIhDuQKeawjyBfcw41Cs
2vqCrDklvff1oeOTGeUgyo3H9kvOdMXMCSjh93IccDFR46Nf0s99imvKW39tTDeN
PyO9scySWcU4dHCJfRiq2EHAKmVObSEiPLHQisJFdhaWG7z9/iicrUmethnPCNXX
bQIDAQAB
-----END PUBLIC KEY-----`;
const VECTOR_HEADER =
  'algorithm=RSA256,keyVersion=1,signature=WEm8eoAOUs52N8TIN5xUelXjr3IiKKCGU5Wfe2TSuN1F%2B9HCZ2P1CDnhQi%2BAgBs06BLfQ5vzMWE5wipg5CLWkMf4V7c5fR1LqM0QoZu9J3%2FvST2AUyIenpIebKKL383cESEzvEX%2Bb1%2BIZJ01w9pTL4LvtII9KaHGsdfJ7cDtlKapZJ9NSL4Pv13hKy8Y4VEAlAm%2F5zExsK1WqKwHJtDOlRd1IajJDR6gKv%2B216x2hPm1BVkMAIcLytAyJtmOJjYzYnFN9Zo4ZNc%2FIUvcEtgJ9RDXB4TpnlrIfun5nvRc4qDQvBrWdlQg%2FyeyBxoKtjJD%2FDe2JMLWRUztwKJJByOYgw%3D%3D';
const VECTOR = {
  path: '/aps/api/v1/payments/pay',
  clientId: 'SANDBOX_5YC47N2ZQHJ004124',
  time: '2025-02-20T08:51:49.09Z',
  body: '{"paymentRequestId":"pay_20250220_0001","paymentAmount":{"currency":"JPY","value":"100"}}',
};

describe('signature verification against the reference test vector', () => {
  const key = loadPublicKey(VECTOR_PUBLIC_KEY);
  const signature = parseSignatureHeader(VECTOR_HEADER)!.signature;
  const verifies = (v: typeof VECTOR, sig = signature) => verifyContent(contentToSign('POST', v.path, v.clientId, v.time, v.body), sig, key);

  it('verifies the documented content', () => {
    expect(verifies(VECTOR)).toBe(true);
  });

  it('accepts lower-case percent escapes (Alipay+ samples use %2f, %2b)', () => {
    expect(verifies(VECTOR, signature.replace(/%2F/g, '%2f').replace(/%2B/g, '%2b').replace(/%3D/g, '%3d'))).toBe(true);
  });

  it.each([
    ['one byte of the body', { ...VECTOR, body: VECTOR.body.replace('100', '101') }],
    ['the time', { ...VECTOR, time: '2025-02-20T08:51:49.10Z' }],
    ['the path', { ...VECTOR, path: '/aps/api/v1/payments/pay/' }],
    ['the client id', { ...VECTOR, clientId: 'SANDBOX_5YC47N2ZQHJ004125' }],
  ])('fails when %s changes', (_what, changed) => {
    expect(verifies(changed)).toBe(false);
  });

  it('fails on a signature that is not base64 of a signature', () => {
    expect(verifies(VECTOR, 'not-a-signature')).toBe(false);
    expect(verifies(VECTOR, '%E0%A4%A')).toBe(false);
    expect(verifies(VECTOR, '')).toBe(false);
  });
});

describe('parseSignatureHeader', () => {
  it('reads the pairs in any order, with or without spaces', () => {
    expect(parseSignatureHeader('signature=abc%3D, keyVersion=2 ,algorithm=RSA256')).toEqual({ algorithm: 'RSA256', keyVersion: '2', signature: 'abc%3D' });
  });

  it('takes a missing keyVersion as version 1', () => {
    expect(parseSignatureHeader('algorithm=RSA256,signature=abc')?.keyVersion).toBe('1');
  });

  it('splits each pair on its first "=" only', () => {
    expect(parseSignatureHeader('algorithm=RSA256,keyVersion=1,signature=ab==')?.signature).toBe('ab==');
  });

  it('returns null when there is no signature', () => {
    expect(parseSignatureHeader(undefined)).toBeNull();
    expect(parseSignatureHeader('algorithm=RSA256,keyVersion=1')).toBeNull();
    expect(parseSignatureHeader('garbage')).toBeNull();
  });

  it('never throws, whatever the header (property)', () => {
    fc.assert(
      fc.property(fc.string(), (header) => {
        const parsed = parseSignatureHeader(header);
        expect(parsed === null || typeof parsed.signature === 'string').toBe(true);
      }),
    );
  });

  it('finds the pairs of any well-formed header, in any order (property)', () => {
    const value = fc.stringMatching(/^[A-Za-z0-9%]{1,40}$/);
    fc.assert(
      fc.property(value, fc.stringMatching(/^[0-9]{1,3}$/), fc.boolean(), fc.boolean(), (signature, version, reversed, spaced) => {
        const pairs = [`algorithm=RSA256`, `keyVersion=${version}`, `signature=${signature}`];
        const header = (reversed ? pairs.reverse() : pairs).join(spaced ? ' , ' : ',');
        expect(parseSignatureHeader(header)).toEqual({ algorithm: 'RSA256', keyVersion: version, signature });
      }),
    );
  });
});

describe('Signer', () => {
  const alipayplus = new Signer('CLIENT', loadPrivateKey(ALIPAYPLUS_KEYS.privatePem), '1', new Map([['1', loadPublicKey(ACQP_KEYS.publicPem)]]));
  const gateway = new Signer(
    'CLIENT',
    loadPrivateKey(ACQP_KEYS.privatePem),
    '1',
    new Map([
      ['1', loadPublicKey(ALIPAYPLUS_KEYS.publicPem)],
      ['2', loadPublicKey(ALIPAYPLUS_KEYS_V2.publicPem)],
    ]),
  );

  it('round-trips a signature between the two sides', async () => {
    const header = await alipayplus.sign('/p', 't', '{"a":"1"}');
    expect(gateway.verify('/p', 't', '{"a":"1"}', header)).toEqual({ ok: true, keyVersion: '1' });
  });

  it('selects the public key by keyVersion', async () => {
    const v2 = new Signer('CLIENT', loadPrivateKey(ALIPAYPLUS_KEYS_V2.privatePem), '2', new Map());
    expect(gateway.verify('/p', 't', 'b', await v2.sign('/p', 't', 'b'))).toEqual({ ok: true, keyVersion: '2' });
    const v2WithV1Label = (await v2.sign('/p', 't', 'b')).replace('keyVersion=2', 'keyVersion=1');
    expect(gateway.verify('/p', 't', 'b', v2WithV1Label)).toMatchObject({ ok: false, reason: 'INVALID_SIGNATURE' });
  });

  it('answers KEY_NOT_FOUND for an unknown keyVersion', async () => {
    const header = (await alipayplus.sign('/p', 't', 'b')).replace('keyVersion=1', 'keyVersion=7');
    expect(gateway.verify('/p', 't', 'b', header)).toMatchObject({ ok: false, reason: 'KEY_NOT_FOUND' });
  });

  it('refuses another algorithm and a missing header', async () => {
    const header = (await alipayplus.sign('/p', 't', 'b')).replace('RSA256', 'ECC224');
    expect(gateway.verify('/p', 't', 'b', header)).toMatchObject({ ok: false, reason: 'INVALID_SIGNATURE' });
    expect(gateway.verify('/p', 't', 'b', undefined)).toMatchObject({ ok: false, reason: 'INVALID_SIGNATURE' });
  });

  it('builds the headers of a signed message, verifiable by the peer with the same time header', async () => {
    const headers = await alipayplus.signedHeaders('Response-Time', '/p', '2026-01-01T00:00:00Z', '{"a":"1"}');
    expect(headers).toMatchObject({ 'Content-Type': 'application/json; charset=UTF-8', 'Client-Id': 'CLIENT', 'Response-Time': '2026-01-01T00:00:00Z' });
    expect(gateway.verify('/p', headers['Response-Time']!, '{"a":"1"}', headers.Signature)).toEqual({ ok: true, keyVersion: '1' });
    expect(gateway.verify('/p', headers['Response-Time']!, '{"a":"2"}', headers.Signature)).toMatchObject({ ok: false });
  });

  it('signs deterministically (PKCS#1 v1.5) with URL-encoded base64', () => {
    const key = loadPrivateKey(ACQP_KEYS.privatePem);
    const content = contentToSign('POST', '/p', 'C', 't', 'body');
    const signature = signContent(content, key);
    expect(signature).toBe(signContent(content, key));
    expect(signature).toMatch(/^[A-Za-z0-9%]+$/);
  });
});

describe('SigningThread', () => {
  const key = loadPrivateKey(ACQP_KEYS.privatePem);
  const content = contentToSign('POST', '/p', 'C', 't', '{"a":"1"}');

  it('signs exactly as inline signing does, many requests in flight at once', async () => {
    const thread = new SigningThread(key);
    try {
      const contents = Array.from({ length: 50 }, (_, i) => contentToSign('POST', '/p', 'C', 't', `{"n":${i}}`));
      const signatures = await Promise.all(contents.map((c) => thread.sign(c)));
      expect(signatures).toEqual(contents.map((c) => signContent(c, key)));
    } finally {
      await thread.close();
    }
  });

  it('signs a body given as text as its UTF-8 bytes: the signature of the same body given as bytes', async () => {
    const body = '{"storeName":"東京駅前店 – Café"}';
    const asText = contentToSign('POST', '/p', 'C', 't', body);
    const asBytes = contentToSign('POST', '/p', 'C', 't', Buffer.from(body, 'utf8'));
    expect(typeof asText).toBe('string');
    const thread = new SigningThread(key);
    try {
      expect(await thread.sign(asText)).toBe(signContent(asBytes, key));
    } finally {
      await thread.close();
    }
    expect(signContent(asText, key)).toBe(signContent(asBytes, key));
    expect(verifyContent(asBytes, signContent(asText, key), loadPublicKey(ACQP_KEYS.publicPem))).toBe(true);
  });

  it('answers the signatures in flight, inline, when the thread goes away under them', async () => {
    const thread = new SigningThread(key);
    const contents = Array.from({ length: 20 }, (_, i) => contentToSign('POST', '/p', 'C', 't', `{"m":${i}}`));
    const inFlight = contents.map((c) => thread.sign(c));
    await thread.close();
    expect(await Promise.all(inFlight)).toEqual(contents.map((c) => signContent(c, key)));
  });

  it('still signs, inline, once the thread is gone', async () => {
    const thread = new SigningThread(key);
    await thread.close();
    await expect(thread.sign(content)).resolves.toBe(signContent(content, key));
  });

  it('gives the Signer a signature the peer verifies', async () => {
    const thread = new SigningThread(key);
    try {
      const signer = new Signer('CLIENT', key, '1', new Map(), thread.sign);
      const peer = new Signer('CLIENT', loadPrivateKey(ALIPAYPLUS_KEYS.privatePem), '1', new Map([['1', loadPublicKey(ACQP_KEYS.publicPem)]]));
      expect(peer.verify('/p', 't', 'b', await signer.sign('/p', 't', 'b'))).toEqual({ ok: true, keyVersion: '1' });
    } finally {
      await thread.close();
    }
  });
});
