import type { RunnerEvent } from '../model/check.js';

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * While a check runs, Ctrl-C (SIGINT) or SIGTERM prints one line on stderr, "interrupted (SIGINT): N checks finished,
 * M running; no report written", and exits with the shell's code for the signal (128 + signal number: 130, 143), as
 * Node would have done silently (or leaves the exit to another handler of the signal, such as `demo`'s lab cleanup,
 * which exits with the same code). `onEvent` counts the runner's start/finish events; `clearLine` runs first (the
 * progress line's eraser). Returns `dispose`, which removes the handlers once the run is over.
 */
export function interruptReporter(clearLine?: () => void): {
  onEvent: (e: RunnerEvent) => void;
  dispose: () => void;
} {
  let started = 0;
  let finished = 0;
  const handlers = (Object.keys(EXIT_CODES) as (keyof typeof EXIT_CODES)[]).map((signal) => {
    const handler = (): void => {
      clearLine?.();
      const running = started - finished;
      process.stderr.write(
        `iot-doctor: interrupted (${signal}): ${finished} check${finished === 1 ? '' : 's'} finished, ` +
          `${running} running; no report written\n`,
      );
      // Another handler of this signal (demo's lab) stops its servers and removes its folders first, then exits with
      // the same code; exiting here would cut that short.
      if (process.listenerCount(signal) <= 1) process.exit(EXIT_CODES[signal]);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return {
    onEvent(e) {
      if (e.type === 'start') started += 1;
      else finished += 1;
    },
    dispose() {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    },
  };
}
