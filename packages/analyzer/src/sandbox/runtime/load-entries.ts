// Runs INSIDE the sandbox (node builtins only; happy-dom for the browser phase): loads a package's entry
// points with require()/import(), or its browser entry in a DOM emulation whose fetch, XMLHttpRequest,
// WebSocket and window.ethereum record being wrapped, replaced or called. Shared by the single-package
// runner and the batch runner. Reports through `send`.
import { closeSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { realTimers } from './time-warp.js';

export type Send = (message: object) => void;

const describe = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

export async function loadEntries(
  send: Send,
  entries: string[],
  projectDir: string,
  useImport: boolean,
): Promise<number> {
  const require = createRequire(`${projectDir}/package.json`);
  let failures = 0;
  for (const entry of entries) {
    try {
      require(entry);
      send({ type: 'load', how: 'require', entry, ok: true });
    } catch (error) {
      send({ type: 'load', how: 'require', entry, ok: false, error: describe(error) });
      failures++;
    }
    if (!useImport) continue;
    try {
      await import(pathToFileURL(entry).href);
      send({ type: 'load', how: 'import', entry, ok: true });
    } catch (error) {
      send({ type: 'load', how: 'import', entry, ok: false, error: describe(error) });
    }
  }
  return failures === entries.length && entries.length > 0 ? 1 : 0;
}

/** `process.getActiveResourcesInfo()` names of network activity in flight (DNS, connects, sockets). */
const IN_FLIGHT =
  /^(?:TCPSocketWrap|TCPWrap|TCPConnectWrap|TLSWrap|UDPWrap|SendWrap|GetAddrInfoReqWrap|GetNameInfoReqWrap|QueryReqWrap)$/;

/**
 * Whether a loader that finished loading may end: `lingerMs` after loading (pending timers), unless the
 * package still has network activity in flight (an import-time request a loaded machine has not completed
 * yet), which is waited for until `capMs` after the loader started. Pure.
 */
/** Whether any of `process.getActiveResourcesInfo()` is network activity in flight. Pure. */
export const networkInFlight = (resources: string[]): boolean => resources.some((r) => IN_FLIGHT.test(r));

export function lingerOver(o: {
  now: number;
  startedAt: number;
  finishedAt: number;
  lingerMs: number;
  capMs: number;
  resources: string[];
}): boolean {
  if (o.now - o.finishedAt < o.lingerMs) return false;
  if (o.now - o.startedAt >= o.capMs) return true;
  return !networkInFlight(o.resources);
}

type Fn = (...args: unknown[]) => unknown;

/**
 * Loads the browser entry in a fresh happy-dom window. Returns the load's exit code and `recheck`, which
 * looks at this package's window again later (a hook installed by a timer after `settleMs`) and reports
 * only what changed since the last look.
 */
export async function browser(
  send: Send,
  config: { happyDomPath: string; browserEntry?: string; projectDir: string },
  options: { settleMs?: number; afterLoad?: () => Promise<unknown> } = {},
): Promise<{ code: number; recheck(send: Send): Promise<void> }> {
  const happyDom = (await import(pathToFileURL(`${config.happyDomPath}/lib/index.js`).href)) as {
    Window: new (
      options: object,
    ) => Record<string, unknown> & { document: unknown; happyDOM?: { abort(): Promise<void> } };
  };
  const window = new happyDom.Window({
    url: 'https://dashboard.acme-corp.example/',
    width: 1440,
    height: 900,
  });
  let out = send;
  const browserEvent = (api: string, action: string, detail: string): void =>
    out({ type: 'browser', api, action, detail: detail.slice(0, 2000) });
  const origFetch = window.fetch as Fn;
  const PROBE = 'https://api.acme-corp.example/v1/wallet';
  const reached = { fetch: false, ethereum: false };
  const fetchOriginal: Fn = function (this: unknown, ...args: unknown[]) {
    const input = args[0];
    const url = typeof input === 'string' ? input : String((input as { url?: string })?.url ?? input);
    reached.fetch = true;
    browserEvent('fetch', 'called', url);
    // Our own probe never goes on the wire: it only shows what a wrapper does with a request.
    if (url === PROBE) return Promise.resolve(new (window.Response as new (body: string) => unknown)('{}'));
    return origFetch.apply(window, args);
  };
  window.fetch = fetchOriginal;
  const Xhr = window.XMLHttpRequest as { prototype: Record<string, Fn> };
  const origOpen = Xhr.prototype.open as Fn;
  const origSend = Xhr.prototype.send as Fn;
  const xhrOpen: Fn = function (this: unknown, ...args: unknown[]) {
    browserEvent('XMLHttpRequest', 'called', `${String(args[0])} ${String(args[1])}`);
    return origOpen.apply(this, args);
  };
  const xhrSend: Fn = function (this: unknown, ...args: unknown[]) {
    browserEvent('XMLHttpRequest', 'called', `send ${String(args[0] ?? '').slice(0, 500)}`);
    return origSend.apply(this, args);
  };
  Xhr.prototype.open = xhrOpen;
  Xhr.prototype.send = xhrSend;
  const OrigWs = window.WebSocket as Fn;
  const wsOriginal = function (this: unknown, ...args: unknown[]) {
    browserEvent('WebSocket', 'called', String(args[0]));
    return Reflect.construct(OrigWs as unknown as new (...a: unknown[]) => object, args);
  } as unknown as Fn;
  window.WebSocket = wsOriginal;
  const accounts = ['0x3f5ce5fbfe3e9af3971dd833d26ba9b5c936f0be'];
  const ethCall = (how: string): Fn =>
    function (...args: unknown[]) {
      reached.ethereum = true;
      browserEvent('ethereum', 'called', `${how} ${JSON.stringify(args).slice(0, 1500)}`);
      return Promise.resolve(accounts);
    };
  const ethereum: Record<string, unknown> = {
    isMetaMask: true,
    chainId: '0x1',
    selectedAddress: accounts[0],
    request: ethCall('request'),
    send: ethCall('send'),
    sendAsync: ethCall('sendAsync'),
    on: () => undefined,
    removeListener: () => undefined,
  };
  const ethOriginals = { request: ethereum.request, send: ethereum.send, sendAsync: ethereum.sendAsync };
  window.ethereum = ethereum;
  const g = globalThis as Record<string, unknown>;
  for (const name of [
    'window',
    'self',
    'document',
    'location',
    'navigator',
    'localStorage',
    'sessionStorage',
    'XMLHttpRequest',
    'WebSocket',
    'fetch',
    'ethereum',
    'HTMLElement',
    'Node',
    'Event',
    'CustomEvent',
  ]) {
    const value = name === 'window' || name === 'self' ? window : window[name];
    if (value !== undefined) Object.defineProperty(g, name, { value, writable: true, configurable: true });
  }
  const entry = config.browserEntry ? [config.browserEntry] : [];
  const code = await loadEntries(send, entry, config.projectDir, false);
  await options.afterLoad?.();
  // Give asynchronous hooks a moment to install themselves.
  await new Promise((resolve) => realTimers.setTimeout(resolve, options.settleMs ?? 300));
  const reported = new Set<string>();
  const check = (api: string, current: unknown, original: unknown, label: string): void => {
    if (current === original || reported.has(label)) return;
    reported.add(label);
    browserEvent(api, 'replaced', `${label} is no longer the page's original`);
  };
  let first = true;
  const inspect = async (): Promise<void> => {
    check('fetch', window.fetch, fetchOriginal, 'window.fetch');
    // The globals are this package's only until the next package of a shared loader takes them.
    if (first && g.fetch !== window.fetch && g.fetch !== fetchOriginal)
      browserEvent('fetch', 'replaced', 'globalThis.fetch was replaced');
    first = false;
    check('XMLHttpRequest', Xhr.prototype.open, xhrOpen, 'XMLHttpRequest.prototype.open');
    check('XMLHttpRequest', Xhr.prototype.send, xhrSend, 'XMLHttpRequest.prototype.send');
    check('XMLHttpRequest', window.XMLHttpRequest, Xhr, 'window.XMLHttpRequest');
    check('WebSocket', window.WebSocket, wsOriginal, 'window.WebSocket');
    const currentEth = window.ethereum as Record<string, unknown> | undefined;
    check('ethereum', currentEth, ethereum, 'window.ethereum');
    for (const key of ['request', 'send', 'sendAsync'] as const)
      check('ethereum', currentEth?.[key], ethOriginals[key], `window.ethereum.${key}`);
    // Exercise what was replaced, as a page would, so a wrapper shows what it does with the traffic.
    const tx = {
      from: accounts[0],
      to: '0x742d35cc6634c0532925a3b844bc454e4438f44e',
      value: '0x2386f26fc10000',
    };
    // A replacement that still reaches the original is a wrapper.
    try {
      if (currentEth && currentEth.request !== ethOriginals.request && !reported.has('probe:ethereum')) {
        reported.add('probe:ethereum');
        reached.ethereum = false;
        await (currentEth.request as Fn)({ method: 'eth_sendTransaction', params: [tx] });
        if (reached.ethereum)
          browserEvent('ethereum', 'wrapped', 'window.ethereum.request wraps the original');
      }
    } catch {
      /* the wrapper's own failure is not our concern */
    }
    try {
      if (window.fetch !== fetchOriginal && !reported.has('probe:fetch')) {
        reported.add('probe:fetch');
        reached.fetch = false;
        await (window.fetch as Fn)(PROBE, { method: 'POST', body: JSON.stringify(tx) });
        if (reached.fetch) browserEvent('fetch', 'wrapped', 'window.fetch wraps the original');
      }
    } catch {
      /* ditto */
    }
  };
  await inspect();
  return {
    code,
    recheck: async (later) => {
      out = later;
      await inspect();
    },
  };
}

/**
 * Blocks until the sandbox's init (../process-tree.ts) has the whole desktop's process tree up: its
 * gate, fd 5, reaches end of file once every process has closed the write end. Only where the
 * config says the init holds one (fd 5 is otherwise whatever Node opened there).
 */
export function waitAtGate(): void {
  const byte = Buffer.alloc(1);
  try {
    while (readSync(5, byte) > 0);
    closeSync(5);
  } catch {
    // the init is gone: the run ends with it
  }
}
