import type { RunnerEvent } from '../model/check.js';

/**
 * Live progress on stderr, only when stderr is a terminal: one line rewritten in place, cleared at the end, so
 * stdout (the table or the JSON) is never mixed with it.
 */
export function progressReporter(
  stream: NodeJS.WriteStream,
): { onEvent: (e: RunnerEvent) => void; finish: () => void } | undefined {
  if (!stream.isTTY) return undefined;
  const running = new Set<string>();
  let done = 0;
  const draw = (): void => {
    const names = [...running].slice(0, 4).join(', ');
    const line = `checking… ${done} done${running.size ? `, running: ${names}${running.size > 4 ? ', …' : ''}` : ''}`;
    stream.write(`\r\u001b[2K${line.slice(0, (stream.columns || 80) - 1)}`);
  };
  return {
    onEvent(e) {
      if (e.type === 'start') running.add(e.checkId);
      else {
        running.delete(e.checkId);
        done += 1;
      }
      draw();
    },
    finish() {
      stream.write('\r\u001b[2K');
    },
  };
}
