import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeValue, newCodeToken, newPaymentRequestId, parseCodeValue } from '../../src/domain/codes.js';

const BASE = 'https://pay.example.com';

describe('order and entry codes', () => {
  it('are HTTPS URLs under the code base URL that parse back to their kind and token', () => {
    const token = newCodeToken();
    expect(codeValue(BASE, 'ORDER_CODE', token)).toBe(`${BASE}/o/${token}`);
    expect(parseCodeValue(BASE, codeValue(BASE, 'ORDER_CODE', token))).toEqual({ kind: 'ORDER_CODE', token });
    expect(parseCodeValue(BASE, codeValue(BASE, 'ENTRY_CODE', token))).toEqual({ kind: 'ENTRY_CODE', token });
  });

  it('carry 128 random bits: 22 base64url characters, never repeated', () => {
    const tokens = new Set(Array.from({ length: 10_000 }, newCodeToken));
    expect(tokens.size).toBe(10_000);
    for (const token of tokens) expect(Buffer.from(token, 'base64url')).toHaveLength(16);
  });

  it('paymentRequestIds carry 80 random bits each, never repeated across refills of the random pool', () => {
    const now = new Date('2026-12-02T00:00:00Z');
    const ids = Array.from({ length: 2_000 }, () => newPaymentRequestId(now)); // 20 kB of randomness: several 4 kB refills
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^pr_[0-9a-f]{12}_[0-9a-f]{20}$/);
  });

  it.each([
    ['another domain', 'https://evil.example.com/o/AAAAAAAAAAAAAAAAAAAAAA'],
    ['a prefix of the base', 'https://pay.example.co/o/AAAAAAAAAAAAAAAAAAAAAA'],
    ['an unknown kind', `${BASE}/x/AAAAAAAAAAAAAAAAAAAAAA`],
    ['a short token', `${BASE}/o/AAAA`],
    ['an extra segment', `${BASE}/o/AAAAAAAAAAAAAAAAAAAAAA/x`],
    ['a payment code', '281004132828992222233'],
  ])('refuses %s', (_what, value) => {
    expect(parseCodeValue(BASE, value)).toBeNull();
  });

  it('never throws and only accepts its own shape (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (suffix) => {
        const parsed = parseCodeValue(BASE, `${BASE}/${suffix}`);
        if (parsed) expect(`${BASE}/${suffix}`).toBe(codeValue(BASE, parsed.kind, parsed.token));
      }),
    );
  });
});

describe('paymentRequestId', () => {
  it('fits in 64 characters and sorts by creation time', () => {
    const early = newPaymentRequestId(new Date('2026-01-01T00:00:00Z'));
    const late = newPaymentRequestId(new Date('2026-01-01T00:00:01Z'));
    expect(early.length).toBeLessThanOrEqual(64);
    expect(early < late).toBe(true);
  });
});
