/**
 * A saved report cannot drive the terminal that renders it: control characters in any of its strings (an ESC colour
 * sequence, an OSC window title, a carriage return) reach the table, list and Nagios output only as visible escapes.
 */
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/model/index.js';
import { printable } from '../../src/report/printable.js';
import { renderReport } from '../../src/report/index.js';
import { allRoutes, fail, fixtureReport, localPasses } from './diagnose-fixtures.js';

const ESC_RED = '\u001b[31m';
const OSC_TITLE = '\u001b]0;pwned\u0007';

function hostile(): Report {
  const r = fixtureReport([...localPasses(), ...allRoutes({ 'mqtt-8883': { tcp: fail('TCP_TIMEOUT') } })]);
  return {
    ...r,
    target: { ...r.target, endpoint: `${ESC_RED}evil${OSC_TITLE}.example` },
    results: r.results.map((x, i) =>
      i === 0 ? { ...x, title: `${x.title}${ESC_RED}`, summary: `ok\rFAKE${OSC_TITLE}` } : x,
    ),
  };
}

describe('terminal formats escape control characters', () => {
  it('printable keeps text, tab and newline, and shows every other control character as \\xNN', () => {
    expect(printable('a\tb\nc')).toBe('a\tb\nc');
    expect(printable(`${ESC_RED}x\r\u0000\u007f\u009b`)).toBe('\\x1b[31mx\\x0d\\x00\\x7f\\x9b');
  });

  for (const format of ['table', 'list', 'nagios'] as const) {
    it(`${format}: no control character of the report reaches the output`, () => {
      const out = renderReport(hostile(), format, { color: false });
      expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      if (format === 'table') expect(out).toContain('\\x1b[31mevil\\x1b]0;pwned\\x07.example');
    });
  }

  it('the colour of the table is still its own when colour is on', () => {
    const out = renderReport(hostile(), 'table', { color: true });
    expect(out).toContain('\u001b[');
    expect(out).not.toContain(OSC_TITLE);
    expect(out).not.toContain('\r');
  });
});
