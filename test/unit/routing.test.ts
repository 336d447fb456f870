import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDirectIntegrations, routePaymentCode, routingNumberOf, STEP_1, STEP_2, STEP_4 } from '../../src/domain/routing.js';

const NONE = parseDirectIntegrations('');
const DIRECT = parseDirectIntegrations('ALIPAY_CN_HK,003');

describe('payment-code routing (seed 001, reference §5)', () => {
  it.each([
    ['the Alipay+ 19-digit example', '2893612204263667830', 1],
    ['the CGCP example (routing number 010)', '281010897274821897274821', 4],
    ['the AlipayCN example (17 digits)', '28024456785672301', 2],
    ['the AlipayHK example (18 digits)', '280244567856723026', 2],
    ['the seed pay sample code (20 digits)', '28100602000000000012', 2],
    ['the CII/BTI example (24 digits)', '251001020123456789012345', 4],
    ['a code starting with 30', '309123456789061234', 2],
  ])('routes %s to Alipay+ at step %i when nothing is integrated directly', (_name, code, step) => {
    expect(routePaymentCode(code, NONE)).toMatchObject({ to: 'ALIPAYPLUS', step });
  });

  it('checks step 1 before step 2, whose pattern also matches Alipay+ 19-digit codes', () => {
    const code = '2893612204263667830';
    expect(STEP_1.test(code) && STEP_2.test(code)).toBe(true);
    expect(routePaymentCode(code, DIRECT)).toMatchObject({ to: 'ALIPAYPLUS', step: 1 });
  });

  it('routes AlipayCN/HK codes away from Alipay+ when integrated directly (step 2)', () => {
    expect(routePaymentCode('28024456785672301', DIRECT)).toEqual({ to: 'DIRECT', step: 2, wallet: 'ALIPAY_CN_HK' });
  });

  it('routes a CGCP code to a directly integrated MPP by its routing number (step 3), others to Alipay+ (step 4)', () => {
    expect(routePaymentCode('281003897274821897274821', DIRECT)).toEqual({ to: 'DIRECT', step: 3, wallet: 'MPP_003' });
    expect(routePaymentCode('281010897274821897274821', DIRECT)).toEqual({ to: 'ALIPAYPLUS', step: 4, routingNumber: '010' });
  });

  it('applies step 3 to 24-digit codes only (the documented example regex has no length bound)', () => {
    expect(routePaymentCode('2810031234567890123', parseDirectIntegrations('003'))).toMatchObject({ to: 'ALIPAYPLUS', step: 2 });
  });

  it('extracts the CGCP routing number of 24-digit codes only', () => {
    expect(routingNumberOf('281010897274821897274821')).toBe('010');
    expect(routingNumberOf('2810108972748218972748')).toBeNull();
  });

  it.each([
    ['16 digits', '2810108972748218'],
    ['25 digits', '2810108972748218972748211'],
    ['32 digits', '28101089727482189727482112345678'],
    ['a prefix outside 25–30', '310244567856723026'],
    ['a prefix below 25', '240244567856723026'],
    ['letters', '28024456785672301A'],
    ['an order code URL', 'https://pay.example/o/AAAAAAAAAAAAAAAAAAAAAA'],
    ['nothing', ''],
  ])('refuses %s as no Alipay+ payment code', (_name, code) => {
    expect(routePaymentCode(code, NONE)).toEqual({ to: 'NOT_ALIPAYPLUS' });
  });

  it('routes exactly the digit strings of 17–24 digits starting 25–30 to Alipay+ or a direct wallet (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 40 }), fc.stringMatching(/^[0-9]{0,36}$/), (prefix, rest) => {
        const code = `${prefix}${rest}`;
        const isAlipayPlus = /^(2[5-9]|30)[0-9]{15,22}$/.test(code);
        expect(routePaymentCode(code, NONE).to === 'ALIPAYPLUS').toBe(isAlipayPlus);
        expect(STEP_4.test(code)).toBe(isAlipayPlus && code.length === 24);
      }),
    );
  });

  it('refuses a DIRECT_WALLETS entry it cannot read', () => {
    expect(() => parseDirectIntegrations('ALIPAY_CN_HK,3')).toThrow(/3-digit/);
  });
});
