/**
 * Routing a scanned user payment code (seed 001 "Routing logic", reference §5.2), steps in order:
 *
 *   1. Alipay+ 19-digit code                 /^(2[5-9]|30)9\d{10}6\d{5}$/   → Alipay+
 *   2. AlipayCN / AlipayHK code (17–23 digits) /^(2[5-9]|30)\d{15,21}$/      → that wallet directly when the
 *                                                                             acquirer integrates it, else Alipay+
 *   3. CGCP code naming a directly integrated MPP (24 digits, routing number = digits 4–6) → that MPP directly
 *   4. CGCP code                             /^(2[5-9]|30)\d{22}$/          → Alipay+
 *
 * Step 1 is checked before step 2 because step 2's pattern also matches it. Step 3's documented
 * example regex has no length bound, so it is applied to 24-digit codes only. Anything else is not an
 * Alipay+ payment code (16-digit and 25–32-digit codes are reserved or UNCONFIRMED: refused).
 */

/** `ALIPAY_CN_HK` for step 2, and 3-digit routing numbers for step 3. */
export interface DirectIntegrations {
  alipayCnHk: boolean;
  routingNumbers: ReadonlySet<string>;
}

export type Route =
  | { to: 'ALIPAYPLUS'; step: 1 | 2 | 4; routingNumber: string | null }
  | { to: 'DIRECT'; step: 2 | 3; wallet: string }
  | { to: 'NOT_ALIPAYPLUS' };

export const STEP_1 = /^(2[5-9]|30)9\d{10}6\d{5}$/;
export const STEP_2 = /^(2[5-9]|30)\d{15,21}$/;
export const STEP_4 = /^(2[5-9]|30)\d{22}$/;

/** The CGCP routing number of a 24-digit code: after 2 prefix digits and the 1-digit agreement id. */
export function routingNumberOf(code: string): string | null {
  return STEP_4.test(code) ? code.substring(3, 6) : null;
}

export function routePaymentCode(code: string, direct: DirectIntegrations): Route {
  if (STEP_1.test(code)) return { to: 'ALIPAYPLUS', step: 1, routingNumber: null };
  if (STEP_2.test(code)) return direct.alipayCnHk ? { to: 'DIRECT', step: 2, wallet: 'ALIPAY_CN_HK' } : { to: 'ALIPAYPLUS', step: 2, routingNumber: null };
  const routingNumber = routingNumberOf(code);
  if (routingNumber === null) return { to: 'NOT_ALIPAYPLUS' };
  if (direct.routingNumbers.has(routingNumber)) return { to: 'DIRECT', step: 3, wallet: `MPP_${routingNumber}` };
  return { to: 'ALIPAYPLUS', step: 4, routingNumber };
}

/** Parses `DIRECT_WALLETS`, e.g. `ALIPAY_CN_HK,003,010`. */
export function parseDirectIntegrations(value: string | undefined): DirectIntegrations {
  const items = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = items.filter((i) => i !== 'ALIPAY_CN_HK' && !/^[0-9]{3}$/.test(i));
  if (bad.length > 0) throw new Error(`DIRECT_WALLETS items must be ALIPAY_CN_HK or 3-digit routing numbers: ${bad.join(', ')}`);
  return { alipayCnHk: items.includes('ALIPAY_CN_HK'), routingNumbers: new Set(items.filter((i) => i !== 'ALIPAY_CN_HK')) };
}
