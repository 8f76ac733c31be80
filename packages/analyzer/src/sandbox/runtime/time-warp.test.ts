import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';

const warp = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'time-warp.js')).href;

/** Runs `body` in a fresh Node process after installing the warp; resolves with what it printed as JSON. */
function inWarpedProcess(body: string): Promise<Record<string, unknown>> {
  const script = `
    const { installTimeWarp, settleTimers, timeWarpStats } = await import(${JSON.stringify(warp)});
    installTimeWarp();
    const out = {};
    ${body}
    await settleTimers(20_000, () => false);
    out.stats = timeWarpStats();
    process.stdout.write(JSON.stringify(out));
    process.exit(0);
  `;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as Record<string, unknown>);
      },
    );
  });
}

describe('time warp', () => {
  test('an unref()ed one-hour timer fires at once, and every clock agrees an hour passed', async () => {
    const out = await inWarpedProcess(`
      const t0 = Date.now(), p0 = performance.now(), h0 = process.hrtime.bigint(), u0 = process.uptime();
      const real0 = Date.now();
      setTimeout(() => {
        out.date = Date.now() - t0;
        out.newDate = new Date().getTime() - t0;
        out.perf = performance.now() - p0;
        out.hrtime = Number((process.hrtime.bigint() - h0) / 1000000n);
        out.uptime = process.uptime() - u0;
        out.dateString = typeof Date() === 'string';
        out.instance = new Date() instanceof Date && new Date(0).getTime() === 0;
      }, 3_600_000).unref();
      out.native = setTimeout.toString().includes('[native code]') || !setTimeout.toString().includes('schedule(');
      out.name = setTimeout.name;
    `);
    const hour = 3_600_000;
    for (const key of ['date', 'newDate', 'perf', 'hrtime'] as const)
      assert.ok(
        (out[key] as number) >= hour && (out[key] as number) < hour + 30_000,
        `${key}: ${String(out[key])}`,
      );
    assert.ok((out.uptime as number) >= 3600);
    assert.equal(out.dateString, true);
    assert.equal(out.instance, true);
    assert.equal(out.native, true, 'the wrapper shows the original source');
    assert.equal(out.name, 'setTimeout');
  });

  test('timers fire in due order; an interval ticks a bounded number of times; cleared timers never fire', async () => {
    const out = await inWarpedProcess(`
      out.order = [];
      setTimeout(() => out.order.push('1h'), 3_600_000);
      setTimeout(() => out.order.push('10m'), 600_000);
      const cleared = setTimeout(() => out.order.push('cleared'), 1_200_000);
      clearTimeout(cleared);
      const closed = setTimeout(() => out.order.push('closed'), 1_300_000);
      closed.close();
      out.ticks = 0;
      setInterval(() => out.ticks++, 60_000).unref();
      const { setTimeout: sleep } = await import('node:timers/promises');
      sleep(7_200_000, '2h').then((v) => out.order.push(v));
      setTimeout(() => out.order.push('short'), 10);
    `);
    assert.deepEqual(out.order, ['short', '10m', '1h', '2h']);
    assert.ok((out.ticks as number) >= 1 && (out.ticks as number) <= 10, String(out.ticks));
  });

  test('short timers keep their real delays; a throwing long timer does not end the process', async () => {
    const out = await inWarpedProcess(`
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 120));
      out.short = Date.now() - t0;
      setTimeout(() => { throw new Error('later'); }, 900_000);
      setTimeout(() => { out.after = true; }, 1_000_000);
    `);
    assert.ok((out.short as number) >= 100 && (out.short as number) < 60_000);
    assert.equal(out.after, true);
  });
});
