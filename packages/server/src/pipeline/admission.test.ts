import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { Admission } from './admission.js';

describe('admission', () => {
  test('admits at most `limit` at once, in order; leaving twice frees one turn only', async () => {
    const admission = new Admission(2);
    const first = await admission.enter();
    const second = await admission.enter();
    const order: string[] = [];
    const third = admission.enter().then((leave) => (order.push('third'), leave));
    const fourth = admission.enter().then((leave) => (order.push('fourth'), leave));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, []);
    first();
    first();
    await third;
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, ['third']);
    assert.equal(admission.inside, 2);
    second();
    (await fourth)();
    (await third)();
    assert.equal(admission.inside, 0);
  });

  test('refuses a limit below one', () => {
    assert.throws(() => new Admission(0), RangeError);
  });
});
