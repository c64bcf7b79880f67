/**
 * `jsonSyntaxReason`: V8's JSON.parse messages quote the input (newlines, control characters and all); the reason
 * shown to a user is one line, without the input, with a line and column where V8 gives a position.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonSyntaxReason } from '../../src/errors.js';

function reasonFor(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return jsonSyntaxReason(err, text);
  }
  throw new Error(`parsed: ${text}`);
}

describe('jsonSyntaxReason', () => {
  it('names the token or the line and column, never the input', () => {
    expect(reasonFor('{\n  "a": x\n}\n')).toBe("unexpected token 'x'");
    expect(reasonFor(`{\n  "a": x${'y'.repeat(200)}\n}\n`)).toBe("unexpected token 'x'");
    expect(reasonFor('{\n  "a": 1,\n}')).toBe('expected double-quoted property name at line 3, column 1');
    expect(reasonFor('[1,\n2 3]')).toBe("expected ',' or ']' after array element at line 2, column 3");
    expect(reasonFor('{')).toBe("expected property name or '}' at line 1, column 2");
    expect(reasonFor('')).toBe('unexpected end of JSON input');
    expect(reasonFor('\u0001\n')).toBe("unexpected token '\\x01'");
  });

  it('is one line without control characters for any input that does not parse', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        let parsed = true;
        try {
          JSON.parse(text);
        } catch {
          parsed = false;
        }
        fc.pre(!parsed);
        expect(reasonFor(text)).not.toMatch(/[\x00-\x1f\x7f]/);
      }),
    );
  });
});
