import { StatefulConfigError } from '../lib';
import { BAD_INPUTS } from './bad-input.cases';
import { EXPECTED_ERRORS } from './bad-input.expected';

/**
 * The bad-input corpus: every configuration a user could plausibly get wrong fails at synth time
 * with one exact message naming the construct path, the value received and the fix.
 */
describe('bad input', () => {
  test('the corpus holds at least 110 distinct configurations, each with its expected error', () => {
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(110);
    expect(new Set(BAD_INPUTS.map((c) => c.what)).size).toBe(BAD_INPUTS.length);
    expect(Object.keys(EXPECTED_ERRORS).sort()).toEqual(BAD_INPUTS.map((c) => c.what).sort());
  });

  test.each(BAD_INPUTS.map((c) => [c.what, c]))('%s', (what, c) => {
    const expected = EXPECTED_ERRORS[what as string];
    expect(expected).toMatch(/^[\w.]+ '(test|a|b)\/[^']+': .*Fix: /);
    expect(c.build).toThrow(expected);
    expect(c.build).toThrow(StatefulConfigError); // the library's own error type, never a wrapped string
    let message = '';
    try {
      c.build();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe(expected);
  });
});
