import { describe, expect, it } from 'vitest';
import { TemplateSyntaxError, ambiguousAdjacency, fitsKind, instantiate, parseTemplate } from '../../src/rules/template.js';

describe('parseTemplate', () => {
  it('splits literals and typed placeholders', () => {
    const t = parseTemplate('a:{x}:{y:*}:{z:base64}:{n:int}');
    expect(t.variables).toEqual(['x', 'y', 'z', 'n']);
    expect(t.segments.map((s) => (s.kind === 'lit' ? s.bytes.toString() : `${s.name}/${s.type}`))).toEqual([
      'a:',
      'x/seg',
      ':',
      'y/any',
      ':',
      'z/base64',
      ':',
      'n/int',
    ]);
  });

  it('reads {{ and }} as literal braces (cluster hash tags)', () => {
    const t = parseTemplate('{{{user}}}:cart');
    expect(t.segments.map((s) => (s.kind === 'lit' ? s.bytes.toString() : `<${s.name}>`))).toEqual(['{', '<user>', '}:cart']);
  });

  it('encodes literal text as UTF-8', () => {
    const t = parseTemplate('café:{x}');
    const lit = t.segments[0]!;
    expect(lit.kind === 'lit' && lit.bytes.equals(Buffer.from('café:', 'utf8'))).toBe(true);
  });

  it.each([
    ['a:{x', /unclosed/],
    ['a:}', /unmatched "}"/],
    ['a:{1x}', /bad placeholder/],
    ['a:{}', /bad placeholder/],
    ['a:{x:uuid}', /unknown placeholder type "uuid"/],
  ])('rejects %s', (src, re) => {
    expect(() => parseTemplate(src)).toThrow(TemplateSyntaxError);
    expect(() => parseTemplate(src)).toThrow(re);
  });

  it('reports the character index of the problem', () => {
    try {
      parseTemplate('abc:{x:nope}');
    } catch (e) {
      expect((e as TemplateSyntaxError).index).toBe(4);
    }
  });

  it('instantiates and checks kinds', () => {
    const t = parseTemplate('p:{a}:{b:int}');
    expect(instantiate(t.segments, { a: Buffer.from('x'), b: Buffer.from('7') }).toString()).toBe('p:x:7');
    expect(fitsKind('int', Buffer.from('123'))).toBe(true);
    expect(fitsKind('int', Buffer.from('12a'))).toBe(false);
    expect(fitsKind('base64', Buffer.from('a+/=-_'))).toBe(true);
    expect(fitsKind('seg', Buffer.from('a:b'))).toBe(false);
    expect(fitsKind('any', Buffer.alloc(0))).toBe(false);
  });

  it('flags adjacent placeholders whose classes overlap', () => {
    expect(ambiguousAdjacency(parseTemplate('{a}{b}').segments)).toEqual([['a', 'b']]);
    expect(ambiguousAdjacency(parseTemplate('{a}:{b}').segments)).toEqual([]);
  });
});
