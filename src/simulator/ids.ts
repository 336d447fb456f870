/**
 * Realistic Alipay+ identifiers for the simulator: the wallet (pspId, walletBrandName) a payment code
 * belongs to, Alipay+'s paymentId and customerId, and times written the way Alipay+ writes them.
 */
import { createHash, randomInt } from 'node:crypto';
import { routingNumberOf, STEP_1, STEP_2 } from '../domain/routing.js';

export interface Wallet {
  walletBrandName: string;
  pspId: string;
}

/** Names and pspIds from the Alipay+ "MPP capabilities" page (reference §5.5). */
const WALLETS = {
  ALIPAY_CN: { walletBrandName: 'ALIPAY_CN', pspId: '1022088000000000001' },
  ALIPAY_HK: { walletBrandName: 'ALIPAY_HK', pspId: '1022160000000000000' },
  GCASH: { walletBrandName: 'GCASH', pspId: '1022170000000000000' },
  KAKAOPAY: { walletBrandName: 'KAKAOPAY', pspId: '1022172000000000001' },
  TNG: { walletBrandName: 'TNG', pspId: '1022171000000000001' },
  TRUEMONEY: { walletBrandName: 'TRUEMONEY', pspId: '1022167000000000001' },
  NAVERPAY: { walletBrandName: 'NAVERPAY', pspId: '2021234400000000' },
  TOSSPAY: { walletBrandName: 'TOSSPAY', pspId: 'A111254300000000' },
  BOOST: { walletBrandName: 'BOOST', pspId: '2021227800000000' },
  MAYA: { walletBrandName: 'MAYA', pspId: 'A111254900000000' },
  HELLOMONEY_BY_AUB: { walletBrandName: 'HELLOMONEY_BY_AUB', pspId: 'A010AUBK00000000' },
  BPI: { walletBrandName: 'BPI', pspId: '2010BOPI00000000' },
} as const satisfies Record<string, Wallet>;

/**
 * CGCP routing number (digits 4–6 of a 24-digit code) → wallet. INVENTED FOR THE SANDBOX: Alipay+
 * publishes this table anonymised ("MPP 1" … for 001, 003, 004 …, reference §5.3), so these rows only
 * give each documented routing number a plausible wallet. Other routing numbers are given a row of
 * this table picked by the number, so any 24-digit code gets a stable wallet.
 */
export const CGCP_ROUTING_WALLETS: Readonly<Record<string, Wallet>> = {
  '001': WALLETS.GCASH,
  '003': WALLETS.KAKAOPAY,
  '004': WALLETS.TNG,
  '005': WALLETS.TRUEMONEY,
  '006': WALLETS.NAVERPAY,
  '007': WALLETS.TOSSPAY,
  '009': WALLETS.BOOST,
  '010': WALLETS.MAYA,
  '011': WALLETS.HELLOMONEY_BY_AUB,
  '012': WALLETS.BPI,
};

/** An Alipay+ 19-digit code is issued for any wallet; the sandbox says KAKAOPAY (the seed sample's brand). */
export const ALIPAYPLUS_CODE_WALLET: Wallet = WALLETS.KAKAOPAY;

/**
 * The wallet of a payment code (routing steps of reference §5.2), or null when it is no Alipay+ payment
 * code at all (Alipay+ then answers INVALID_CODE). AlipayHK codes are 17–19 digits; other codes of
 * routing step 2 are taken as AlipayCN.
 */
export function walletFor(code: string): Wallet | null {
  if (STEP_1.test(code)) return ALIPAYPLUS_CODE_WALLET;
  if (STEP_2.test(code)) return code.length <= 19 ? WALLETS.ALIPAY_HK : WALLETS.ALIPAY_CN;
  const routingNumber = routingNumberOf(code);
  if (routingNumber === null) return null;
  const rows = Object.values(CGCP_ROUTING_WALLETS);
  return CGCP_ROUTING_WALLETS[routingNumber] ?? rows[Number(routingNumber) % rows.length]!;
}

function digits(count: number): string {
  let out = '';
  while (out.length < count) out += randomInt(0, 1_000_000_000).toString().padStart(9, '0');
  return out.slice(0, count);
}

/** Alipay+'s id of a payment: 35 digits, the date first, like the seed's `20190608114010800100188820200355883`. */
export function newPaymentId(now: Date): string {
  return `${now.toISOString().slice(0, 10).replace(/-/g, '')}${digits(27)}`;
}

/** The wallet user behind a payment code: stable per code (one user, one id), 16 digits like `2088…`. */
export function customerIdFor(code: string): string {
  const hash = createHash('sha256').update(code).digest();
  return `2088${(hash.readBigUInt64BE(0) % 10n ** 12n).toString().padStart(12, '0')}`;
}

/** Alipay+ writes times in UTC+8 with the offset, e.g. `2021-04-08T14:48:50+08:00` (`.253` with milliseconds). */
export function alipayplusTime(date: Date, withMilliseconds = false): string {
  const local = new Date(date.getTime() + 8 * 3600_000).toISOString();
  return `${withMilliseconds ? local.slice(0, 23) : local.slice(0, 19)}+08:00`;
}
