import { describe, expect, it } from 'vitest';
import { effectiveStatus } from '../../src/domain/model.js';

const at = (iso: string) => new Date(iso);

describe('effectiveStatus', () => {
  const order = { scenario: 'ORDER_CODE' as const, status: 'PENDING' as const, expiresAt: '2026-01-01T00:02:00.000Z' };

  it('keeps an order code PENDING until its expiry', () => {
    expect(effectiveStatus(order, at('2026-01-01T00:01:59.999Z'))).toBe('PENDING');
  });

  it('reads an unpaid order code as EXPIRED from its expiry on', () => {
    expect(effectiveStatus(order, at('2026-01-01T00:02:00.000Z'))).toBe('EXPIRED');
  });

  it.each(['SUCCEEDED', 'FAILED', 'CANCELLED'] as const)('never changes a final %s', (status) => {
    expect(effectiveStatus({ ...order, status }, at('2027-01-01T00:00:00Z'))).toBe(status);
  });

  it('leaves user-presented payments to their own expiry handling (they end CANCELLED, never EXPIRED)', () => {
    expect(effectiveStatus({ ...order, scenario: 'PAYMENT_CODE' }, at('2027-01-01T00:00:00Z'))).toBe('PENDING');
  });
});
