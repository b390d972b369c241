/**
 * A background loop like Beacon's goroutines: run a pass, sleep as long as the pass asks, repeat,
 * until stopped. Tracks idleness so that tests can wait for quiet (`waitIdle`) instead of sleeping.
 */

/** A pass returns how long to sleep before the next one: 0 means "I did work, go again". */
export type Pass = (signal: AbortSignal) => Promise<number>;

export interface Loop {
  start(): void;
  /** Stops after the current pass; resolves once it has returned. */
  stop(): Promise<void>;
  /** Resolves after a pass that started after this call found nothing to do. */
  waitIdle(): Promise<void>;
  /** Passes so far that did work (returned 0). */
  busyPasses(): number;
}

/** Resolves after `ms`, or at once (rejecting) when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export function createLoop(name: string, pass: Pass, signal: AbortSignal, onError: (error: unknown) => number): Loop {
  let running: Promise<void> | undefined;
  let started = 0; // passes started
  let busy = 0;
  const waiters: { after: number; resolve: () => void }[] = [];
  const local = new AbortController();
  const stopSignal = AbortSignal.any([signal, local.signal]);

  const settleIdle = (passNumber: number) => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const waiter = waiters[i]!;
      if (passNumber > waiter.after) {
        waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  };

  const run = async () => {
    while (!stopSignal.aborted) {
      const passNumber = ++started;
      let delay: number;
      try {
        delay = await pass(stopSignal);
      } catch (error) {
        if (stopSignal.aborted) break;
        delay = onError(error);
      }
      if (delay > 0) settleIdle(passNumber);
      else busy++;
      try {
        await sleep(delay, stopSignal);
      } catch {
        break;
      }
    }
    for (const waiter of waiters.splice(0)) waiter.resolve();
  };

  return {
    start() {
      running ??= run().catch((error: unknown) => console.error(`[sandbox:${name}] loop crashed`, error));
    },
    async stop() {
      local.abort(new Error(`${name} stopped`));
      await running;
    },
    waitIdle() {
      if (stopSignal.aborted) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ after: started, resolve }));
    },
    busyPasses: () => busy,
  };
}
