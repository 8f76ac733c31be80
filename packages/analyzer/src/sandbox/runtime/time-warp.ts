// Runs INSIDE the sandbox (node builtins only), in the import / browser loaders: time acceleration. A
// payload on a long or `unref()`ed timer (minutes, hours) would never fire during a phase of a few
// seconds. Once `installTimeWarp` ran, every timer of at least `LONG_MS` is also kept in a queue that a
// pump fires one after the other, a few milliseconds apart, earliest due first, moving the process's
// clock (Date, performance.now, process.hrtime/uptime, os.uptime) forward to each timer's due time, so
// code that checks how much time passed sees the hours it waited for. Short timers (debounce, polling)
// are untouched; intervals fire at most `MAX_INTERVAL_FIRES` times accelerated, then keep their real
// period; the whole process gets at most `MAX_FIRES` accelerated fires. The originals are captured when
// this module is evaluated, before any package code runs: the runner keeps real time (`realNow`).
import { createRequire, syncBuiltinESMExports } from 'node:module';
import type * as TimersModule from 'node:timers';
import type * as OsModule from 'node:os';

const require = createRequire(import.meta.url);
const timers = require('node:timers') as typeof TimersModule;
const timersPromises = require('node:timers/promises') as Record<string, unknown>;
const os = require('node:os') as typeof OsModule;

/** Delays from this long on are accelerated. */
export const LONG_MS = 500;
const MAX_INTERVAL_FIRES = 10;
const MAX_FIRES = 1_000;
/** Real milliseconds between two accelerated fires (the event loop turns in between). */
const STEP_MS = 3;
/** Node clamps longer delays to 1 ms: such timers fire at once anyway. */
const TIMEOUT_MAX = 2 ** 31 - 1;

type Fn = (...args: unknown[]) => unknown;
type Handle = NodeJS.Timeout & { _destroyed?: boolean };

const real = {
  setTimeout: globalThis.setTimeout,
  setInterval: globalThis.setInterval,
  clearTimeout: globalThis.clearTimeout,
  clearInterval: globalThis.clearInterval,
  promisesSetTimeout: timersPromises.setTimeout as Fn,
  Date: globalThis.Date,
  dateNow: Date.now,
  perfNow: performance.now.bind(performance),
  hrtime: process.hrtime,
  hrtimeBigint: process.hrtime.bigint,
  uptime: process.uptime,
  osUptime: os.uptime,
  toString: Function.prototype.toString,
};

/** Real wall-clock time, whatever the warp did to `Date`. */
export const realNow = (): number => real.dateNow.call(real.Date);
/** The runner's own timers: never accelerated. */
export const realTimers = { setTimeout: real.setTimeout, setInterval: real.setInterval };

interface Entry {
  handle: Handle;
  callback: Fn;
  args: unknown[];
  /** Virtual time it is due at. */
  due: number;
  interval?: number;
  fires: number;
  order: number;
}

let skew = 0;
let installed = false;
let fired = 0;
let order = 0;
let pumping: NodeJS.Timeout | undefined;
const queue = new Map<Handle, Entry>();
const byId = new Map<number, Handle>();

const virtualNow = (): number => realNow() + skew;

/** Accelerated timer fires so far, and how far the clock was moved (ms). */
export function timeWarpStats(): { fired: number; advancedMs: number; pending: number } {
  return { fired, advancedMs: skew, pending: queue.size };
}

function drop(entry: Entry): void {
  queue.delete(entry.handle);
  byId.delete(Number(entry.handle));
}

function earliest(): Entry | undefined {
  let best: Entry | undefined;
  for (const e of queue.values())
    if (!best || e.due < best.due || (e.due === best.due && e.order < best.order)) best = e;
  return best;
}

function step(): void {
  pumping = undefined;
  const entry = earliest();
  if (!entry) return;
  if (entry.handle._destroyed || fired >= MAX_FIRES) {
    if (fired >= MAX_FIRES) queue.clear();
    else drop(entry);
    pump();
    return;
  }
  fired++;
  // A millisecond late, as a real timer is at best (clocks finer than Date's agree the delay passed).
  skew = Math.max(skew, entry.due + 1 - realNow());
  entry.fires++;
  if (entry.interval === undefined) {
    drop(entry);
    real.clearTimeout(entry.handle);
  } else {
    entry.due += entry.interval;
    // Enough accelerated ticks: it keeps its real period from now on.
    if (entry.fires >= MAX_INTERVAL_FIRES) drop(entry);
  }
  pump();
  try {
    entry.callback.apply(entry.handle, entry.args);
  } catch {
    // An error the package's timer would have thrown hours from now: not a reason to end the phase.
  }
}

function pump(): void {
  if (pumping || queue.size === 0) return;
  pumping = real.setTimeout(step, STEP_MS);
  pumping.unref();
}

const isLong = (delay: unknown): boolean => {
  const ms = Number(delay);
  return Number.isFinite(ms) && ms >= LONG_MS && ms <= TIMEOUT_MAX;
};

function schedule(callback: unknown, delay: unknown, args: unknown[], interval: boolean): Handle {
  const realSet = interval ? real.setInterval : real.setTimeout;
  if (typeof callback !== 'function' || !installed || !isLong(delay))
    return (realSet as Fn)(callback, delay, ...args) as Handle;
  const ms = Number(delay);
  // The real timer stays armed (ref/unref/refresh/clear behave natively); whichever comes first fires it.
  const entry: Entry = {
    handle: undefined as unknown as Handle,
    callback: callback as Fn,
    args,
    due: virtualNow() + ms,
    ...(interval ? { interval: ms } : {}),
    fires: 0,
    order: order++,
  };
  entry.handle = (realSet as Fn)(function (this: unknown) {
    if (queue.has(entry.handle) && entry.interval === undefined) drop(entry);
    else if (queue.has(entry.handle)) entry.due = virtualNow() + ms;
    return entry.callback.apply(this, entry.args);
  }, ms) as Handle;
  queue.set(entry.handle, entry);
  byId.set(Number(entry.handle), entry.handle);
  pump();
  return entry.handle;
}

function unschedule(handle: unknown): void {
  const key = typeof handle === 'object' && handle !== null ? handle : byId.get(Number(handle));
  const entry = key ? queue.get(key as Handle) : undefined;
  if (entry) drop(entry);
}

const masked = new WeakMap<object, string>();

/** `replacement` under `original`'s name, length and source text. */
function disguise<T extends object>(replacement: T, original: object): T {
  for (const key of ['name', 'length'] as const) {
    const descriptor = Object.getOwnPropertyDescriptor(original, key);
    if (descriptor) Object.defineProperty(replacement, key, descriptor);
  }
  masked.set(replacement, real.toString.call(original));
  return replacement;
}

function defineHidden(target: object, key: PropertyKey, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: false });
}

function warpedDate(): DateConstructor {
  const RealDate = real.Date;
  const WarpDate = function Date(this: unknown, ...args: unknown[]): unknown {
    if (!new.target) return new RealDate(virtualNow()).toString();
    return Reflect.construct(RealDate, args.length === 0 ? [virtualNow()] : args, new.target);
  } as unknown as DateConstructor & { prototype: Date };
  Object.setPrototypeOf(WarpDate, Object.getPrototypeOf(RealDate) as object);
  for (const key of Reflect.ownKeys(RealDate)) {
    if (key === 'prototype' || key === 'name' || key === 'length') continue;
    const descriptor = Object.getOwnPropertyDescriptor(RealDate, key);
    if (descriptor) Object.defineProperty(WarpDate, key, descriptor);
  }
  Object.defineProperty(WarpDate, 'prototype', { value: RealDate.prototype, writable: false });
  defineHidden(RealDate.prototype, 'constructor', WarpDate);
  defineHidden(
    WarpDate,
    'now',
    disguise(() => virtualNow(), real.dateNow),
  );
  return disguise(WarpDate, RealDate);
}

/** Installs the warp in this process (once). Call before any package code runs. */
export function installTimeWarp(): void {
  if (installed) return;
  installed = true;
  const setTimeoutW = disguise(
    (cb: unknown, delay?: unknown, ...args: unknown[]) => schedule(cb, delay, args, false),
    real.setTimeout,
  );
  const setIntervalW = disguise(
    (cb: unknown, delay?: unknown, ...args: unknown[]) => schedule(cb, delay, args, true),
    real.setInterval,
  );
  const clearTimeoutW = disguise((handle?: unknown) => {
    unschedule(handle);
    real.clearTimeout(handle as Handle);
  }, real.clearTimeout);
  const clearIntervalW = disguise((handle?: unknown) => {
    unschedule(handle);
    real.clearInterval(handle as Handle);
  }, real.clearInterval);
  const promisesSetTimeoutW = disguise(
    (delay?: unknown, value?: unknown, options?: { signal?: AbortSignal; ref?: boolean }) => {
      if (!isLong(delay) || options?.signal?.aborted) return real.promisesSetTimeout(delay, value, options);
      return new Promise((resolve, reject) => {
        const handle = schedule(() => resolve(value), delay, [], false);
        if (options?.ref === false) handle.unref();
        options?.signal?.addEventListener(
          'abort',
          () => {
            clearTimeoutW(handle);
            reject(
              Object.assign(new Error('The operation was aborted'), {
                name: 'AbortError',
                code: 'ABORT_ERR',
              }),
            );
          },
          { once: true },
        );
      });
    },
    real.promisesSetTimeout,
  );
  for (const target of [globalThis, timers] as Record<string, unknown>[]) {
    defineHidden(target, 'setTimeout', setTimeoutW);
    defineHidden(target, 'setInterval', setIntervalW);
    defineHidden(target, 'clearTimeout', clearTimeoutW);
    defineHidden(target, 'clearInterval', clearIntervalW);
  }
  defineHidden(timersPromises, 'setTimeout', promisesSetTimeoutW);
  defineHidden(globalThis, 'Date', warpedDate());
  defineHidden(
    performance,
    'now',
    disguise(() => real.perfNow() + skew, real.perfNow),
  );
  const hrtime = disguise((previous?: [number, number]) => {
    const now = real.hrtimeBigint() + BigInt(Math.round(skew)) * 1_000_000n;
    const prev = previous ? BigInt(previous[0]) * 1_000_000_000n + BigInt(previous[1]) : 0n;
    const diff = now - prev;
    return [Number(diff / 1_000_000_000n), Number(diff % 1_000_000_000n)];
  }, real.hrtime) as typeof process.hrtime;
  defineHidden(
    hrtime,
    'bigint',
    disguise(() => real.hrtimeBigint() + BigInt(Math.round(skew)) * 1_000_000n, real.hrtimeBigint),
  );
  defineHidden(process, 'hrtime', hrtime);
  defineHidden(
    process,
    'uptime',
    disguise(() => real.uptime.call(process) + skew / 1000, real.uptime),
  );
  defineHidden(
    os,
    'uptime',
    disguise(() => real.osUptime() + skew / 1000, real.osUptime),
  );
  const toString = disguise(function toString(this: unknown) {
    return masked.get(this as object) ?? real.toString.call(this);
  }, real.toString);
  defineHidden(Function.prototype, 'toString', toString);
  syncBuiltinESMExports();
}

/**
 * Waits while accelerated timers are queued (and, once one fired, while network it started is in
 * flight), at most `budgetMs`: what a package set up to happen later happens in its own turn.
 */
export async function settleTimers(budgetMs: number, inFlight: () => boolean): Promise<{ fired: number }> {
  const started = realNow();
  const before = fired;
  while (realNow() - started < budgetMs) {
    if (queue.size === 0 && (fired === before || !inFlight())) break;
    await new Promise((resolve) => real.setTimeout(resolve, STEP_MS * 4));
  }
  return { fired: fired - before };
}
