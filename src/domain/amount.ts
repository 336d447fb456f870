/**
 * Amount rules (reference §7). An amount is `{currency, value}` with `value` a string of ISO 4217 minor
 * units. Arithmetic is done in BigInt: money is never a float.
 */
import { PaymentRefused } from './result-codes.js';

export interface Amount {
  currency: string;
  value: string;
}

const EXPONENT_0 = 'JPY KRW VND CLP ISK PYG UGX XAF XOF XPF BIF DJF GNF KMF RWF VUV UYI';
const EXPONENT_3 = 'BHD IQD JOD KWD LYD OMR TND';
const EXPONENT_4 = 'CLF UYW';
// ISO 4217 List One codes with two decimals (the common case), kept explicit so that an unknown code
// is refused rather than silently given two decimals.
const EXPONENT_2 =
  'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CNY ' +
  'COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS ' +
  'INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR ' +
  'MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD ' +
  'SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD XCG YER ZAR ZMW ZWG';

const EXPONENTS: ReadonlyMap<string, number> = new Map([
  ...EXPONENT_0.split(' ').map((c) => [c, 0] as const),
  ...EXPONENT_2.split(' ').map((c) => [c, 2] as const),
  ...EXPONENT_3.split(' ').map((c) => [c, 3] as const),
  ...EXPONENT_4.split(' ').map((c) => [c, 4] as const),
]);

/** Minor-unit exponent of an ISO 4217 currency, or undefined when the code is unknown. */
export function currencyExponent(currency: string): number | undefined {
  return EXPONENTS.get(currency);
}

export function isKnownCurrency(currency: string): boolean {
  return EXPONENTS.has(currency);
}

const MAX_DIGITS = 16;

/**
 * Refuses with PAYMENT_AMOUNT_INVALID anything that is not a payable amount: not a natural number
 * (digits only, > 0, no leading zero, at most 16 digits), an unknown currency, or IDR whose value does
 * not end in `00` (Alipay+ rule). `field` names the offending field in the message.
 */
export function assertPayableAmount(amount: Amount, field: string): bigint {
  if (!isKnownCurrency(amount.currency)) {
    throw new PaymentRefused('PAYMENT_AMOUNT_INVALID', `${field}.currency ${amount.currency} is not an ISO 4217 currency.`);
  }
  if (!/^[1-9][0-9]*$/.test(amount.value) || amount.value.length > MAX_DIGITS) {
    throw new PaymentRefused(
      'PAYMENT_AMOUNT_INVALID',
      `${field}.value must be a positive whole number of minor units with at most ${MAX_DIGITS} digits.`,
    );
  }
  const value = BigInt(amount.value);
  if (amount.currency === 'IDR' && value % 100n !== 0n) {
    throw new PaymentRefused('PAYMENT_AMOUNT_INVALID', `${field}.value in IDR must be a multiple of 100.`);
  }
  return value;
}

export function sameAmount(a: Amount | null | undefined, b: Amount | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a.currency === b.currency && a.value === b.value;
}

export interface Quote {
  quoteCurrencyPair?: string | null;
  quotePrice?: string | null;
}

/** Parses a decimal string ("1.35") into an exact fraction numerator / 10^scale. */
function parseDecimal(text: string): { numerator: bigint; scale: number } | null {
  const match = /^([0-9]+)(?:\.([0-9]+))?$/.exec(text);
  if (!match) return null;
  const fraction = match[2] ?? '';
  return { numerator: BigInt(match[1]! + fraction), scale: fraction.length };
}

/**
 * Checks that `settlement` is `payment` converted with `quote` (UNCONFIRMED semantics, reference §4:
 * pair "A/B" at price p means 1 A = p B), within `toleranceMinorUnits` because the rounding mode is not
 * documented. Works in exact fractions with each currency's exponent.
 */
export function settlementMatchesQuote(payment: Amount, settlement: Amount, quote: Quote, toleranceMinorUnits: bigint): boolean {
  const pair = quote.quoteCurrencyPair?.split('/');
  const price = quote.quotePrice ? parseDecimal(quote.quotePrice) : null;
  if (!pair || pair.length !== 2 || !price || price.numerator === 0n) return false;
  const [base, counter] = pair as [string, string];
  const pe = currencyExponent(payment.currency);
  const se = currencyExponent(settlement.currency);
  if (pe === undefined || se === undefined) return false;
  const p = BigInt(payment.value);
  const s = BigInt(settlement.value);
  const ten = (n: number) => 10n ** BigInt(n);
  // expected settlement minor units = p / 10^pe × rate × 10^se, where rate converts payment → settlement.
  let num: bigint;
  let den: bigint;
  if (base === settlement.currency && counter === payment.currency) {
    // 1 settlement = price payment → rate = 1/price
    num = p * ten(se) * ten(price.scale);
    den = ten(pe) * price.numerator;
  } else if (base === payment.currency && counter === settlement.currency) {
    num = p * ten(se) * price.numerator;
    den = ten(pe) * ten(price.scale);
  } else {
    return false;
  }
  // |s - num/den| <= tolerance  ⇔  |s·den - num| <= tolerance·den
  const diff = s * den - num;
  return (diff < 0n ? -diff : diff) <= toleranceMinorUnits * den;
}
