import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertPayableAmount, currencyExponent, sameAmount, settlementMatchesQuote } from '../../src/domain/amount.js';
import { PaymentRefused } from '../../src/domain/result-codes.js';

const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    return error instanceof PaymentRefused ? error.code : `other: ${String(error)}`;
  }
  return 'accepted';
};

describe('assertPayableAmount', () => {
  it.each([
    ['JPY', '1'],
    ['USD', '100'],
    ['IDR', '10000'],
    ['KWD', '1234'],
    ['USD', '9999999999999999'],
  ])('accepts %s %s', (currency, value) => {
    expect(refusal(() => assertPayableAmount({ currency, value }, 'paymentAmount'))).toBe('accepted');
  });

  it.each([
    ['zero', 'USD', '0'],
    ['a leading zero', 'USD', '0100'],
    ['a decimal point', 'USD', '1.00'],
    ['a sign', 'USD', '-100'],
    ['17 digits', 'USD', '10000000000000000'],
    ['an unknown currency', 'XYZ', '100'],
    ['IDR not ending in 00', 'IDR', '10050'],
    ['an empty value', 'USD', ''],
  ])('refuses %s with PAYMENT_AMOUNT_INVALID', (_what, currency, value) => {
    expect(refusal(() => assertPayableAmount({ currency, value }, 'paymentAmount'))).toBe('PAYMENT_AMOUNT_INVALID');
  });

  it('names the field in the message', () => {
    expect(() => assertPayableAmount({ currency: 'USD', value: '0' }, 'settlementAmount')).toThrow(/settlementAmount\.value/);
  });

  it('accepts exactly the natural numbers of at most 16 digits (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789a.-'.split('')), maxLength: 20 }), (value) => {
        const expected = /^[1-9][0-9]{0,15}$/.test(value) ? 'accepted' : 'PAYMENT_AMOUNT_INVALID';
        expect(refusal(() => assertPayableAmount({ currency: 'USD', value }, 'a'))).toBe(expected);
      }),
    );
  });

  it('returns the exact value as a BigInt beyond 2^53', () => {
    expect(assertPayableAmount({ currency: 'USD', value: '9007199254740993' }, 'a')).toBe(9007199254740993n);
  });
});

describe('currency exponents (ISO 4217)', () => {
  it.each([
    ['JPY', 0],
    ['KRW', 0],
    ['USD', 2],
    ['IDR', 2],
    ['TWD', 2],
    ['KWD', 3],
    ['CLF', 4],
  ])('%s has %i decimals', (currency, exponent) => {
    expect(currencyExponent(currency)).toBe(exponent);
  });
});

describe('settlementMatchesQuote', () => {
  it('converts with the pair direction and each currency exponent', () => {
    // 1 USD = 150.25 JPY: JPY 1000 → USD 6.6556 → 666 cents (rounded either way within 1)
    const quote = { quoteCurrencyPair: 'USD/JPY', quotePrice: '150.25' };
    expect(settlementMatchesQuote({ currency: 'JPY', value: '1000' }, { currency: 'USD', value: '666' }, quote, 1n)).toBe(true);
    expect(settlementMatchesQuote({ currency: 'JPY', value: '1000' }, { currency: 'USD', value: '665' }, quote, 1n)).toBe(true);
    expect(settlementMatchesQuote({ currency: 'JPY', value: '1000' }, { currency: 'USD', value: '668' }, quote, 1n)).toBe(false);
    // the same rate written the other way: 1 JPY = 0.0066556 USD
    const inverse = { quoteCurrencyPair: 'JPY/USD', quotePrice: '0.0066556' };
    expect(settlementMatchesQuote({ currency: 'JPY', value: '1000' }, { currency: 'USD', value: '666' }, inverse, 1n)).toBe(true);
  });

  it('refuses a quote that does not name both currencies or has no price', () => {
    const payment = { currency: 'JPY', value: '1000' };
    const settlement = { currency: 'USD', value: '666' };
    expect(settlementMatchesQuote(payment, settlement, { quoteCurrencyPair: 'EUR/JPY', quotePrice: '160' }, 1n)).toBe(false);
    expect(settlementMatchesQuote(payment, settlement, { quoteCurrencyPair: 'USD/JPY' }, 1n)).toBe(false);
    expect(settlementMatchesQuote(payment, settlement, { quoteCurrencyPair: 'USD/JPY', quotePrice: '0' }, 1n)).toBe(false);
  });
});

describe('sameAmount', () => {
  it('compares currency and value exactly', () => {
    expect(sameAmount({ currency: 'JPY', value: '100' }, { currency: 'JPY', value: '100' })).toBe(true);
    expect(sameAmount({ currency: 'JPY', value: '100' }, { currency: 'USD', value: '100' })).toBe(false);
    expect(sameAmount({ currency: 'JPY', value: '100' }, { currency: 'JPY', value: '0100' })).toBe(false);
  });
});
