/**
 * JSON rules files are read by JSON.parse (the YAML parser costs seconds on big files), and give
 * exactly what the YAML path gives: the same document, the same rule/test line numbers, the same
 * errors with the same positions, and a repeated key is still refused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRulesText, RulesFileError } from '../../src/rules/index.js';
import { readJsonRules } from '../../src/rules/json-rules.js';

/** The same text through the YAML path: a trailing comment is valid YAML and not JSON. */
const viaYaml = (text: string) => parseRulesText(text + '\n# yaml\n', 'r.json');

function diagnostics(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    if (e instanceof RulesFileError) return e.message;
    throw e;
  }
  return null;
}

describe('JSON rules files', () => {
  it('the example file: the fast path is taken and gives what YAML gives, line numbers included', () => {
    const text = readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'meta-glasses.rules.json'), 'utf8');
    expect(readJsonRules(text)).not.toBeNull();
    const fast = parseRulesText(text, 'r.json');
    expect(fast).toEqual(viaYaml(text));
    expect(fast.rules.every((r) => r.loc !== undefined)).toBe(true);
  });

  it('pretty-printed, one-line and CRLF files, escapes and binary keys: same document either way', () => {
    const doc = {
      version: 1,
      unmatched: 'drop',
      rules: [
        { name: 'a"b', match: 'x:{id}', rename: 'y:{id}', type: ['hash', 'set'], db: [0, 2] },
        { regex: '^q:(?<n>[0-9]+)$', rename: 'Q\\{n}:{n}', ttl: 60000 },
        { name: 'é', match: 'é:{v:*}', to_db: 3, ttl: 'drop' },
      ],
      tests: [{ key: { base64: Buffer.from([0xff, 0x3a]).toString('base64') }, expect: null }, { key: 'x:1', expect: 'y:1', db: 0, type: 'hash' }],
    };
    for (const text of [JSON.stringify(doc, null, 2), JSON.stringify(doc), JSON.stringify(doc, null, 1).replace(/\n/g, '\r\n'), '\ufeff' + JSON.stringify(doc, null, 4)]) {
      expect(readJsonRules(text), text.slice(0, 40)).not.toBeNull();
      expect(parseRulesText(text, 'r.json')).toEqual(viaYaml(text));
    }
  });

  it('a key repeated anywhere goes to the YAML path and is refused with its line', () => {
    const text = '{\n  "rules": [\n    {"match": "a:{x}", "match": "b:{x}"}\n  ]\n}\n';
    expect(readJsonRules(text)).toBeNull();
    const msg = diagnostics(() => parseRulesText(text, 'r.json'));
    expect(msg).toMatch(/r\.json:3:/);
    expect(msg).toMatch(/unique|duplicate/i);
  });

  it('an invalid rule gives the same errors, with the same positions, as YAML', () => {
    const text = '{\n  "rules": [\n    {"name": "ok", "match": "a:{x}"},\n    {"name": "bad", "match": "a:{x", "colour": 1}\n  ]\n}\n';
    expect(readJsonRules(text)).not.toBeNull();
    const fast = diagnostics(() => parseRulesText(text, 'r.json'));
    expect(fast).not.toBeNull();
    expect(fast).toMatch(/r\.json:4:/);
    expect(fast).toEqual(diagnostics(() => viaYaml(text)));
  });

  it('text that is not a JSON object is left to the YAML path', () => {
    expect(readJsonRules('rules:\n  - match: "a"\n')).toBeNull();
    expect(readJsonRules('[1, 2]')).toBeNull();
    expect(readJsonRules('{"rules": [}')).toBeNull();
  });
});
