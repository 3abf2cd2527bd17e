/**
 * `match` / `rename` templates: literal text with typed placeholders.
 *
 *   {name}          one or more bytes other than `:`
 *   {name:*}        one or more bytes of any value (also `:`)
 *   {name:base64}   one or more of A–Z a–z 0–9 + / = - _  (standard and url-safe alphabets)
 *   {name:int}      one or more ASCII digits 0–9
 *   {{  and  }}     a literal `{` / `}` (e.g. a cluster hash tag: `{{{user}}}:cart`)
 *
 * Every placeholder matches at least one byte: an empty id never matches (documented deviation:
 * The README says `{name:*}` matches "anything"; we read that as "any bytes", not "possibly none",
 * so that `prefix:{id:*}` never accepts the bare `prefix:`).
 * Literal text is the UTF-8 encoding of the template string; placeholders match raw bytes, so
 * non-UTF-8 keys match too.
 */

export type PlaceholderKind = 'seg' | 'any' | 'base64' | 'int';

export interface LiteralSegment {
  kind: 'lit';
  bytes: Buffer;
}

export interface VarSegment {
  kind: 'var';
  name: string;
  type: PlaceholderKind;
  /** Whether the kind was written explicitly (`{x:seg}` is not a spelling; `{x}` is `seg`). */
  explicitType: boolean;
  /** Character index of the `{` in the template source (for error positions). */
  at?: number;
}

export type Segment = LiteralSegment | VarSegment;

export interface Template {
  source: string;
  segments: Segment[];
  /** Variable names in order of first appearance. */
  variables: string[];
}

export class TemplateSyntaxError extends Error {
  override readonly name = 'TemplateSyntaxError';
  constructor(
    message: string,
    /** 0-based character index in the template string. */
    readonly index: number,
  ) {
    super(message);
  }
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

const KIND_SPELLINGS: Record<string, PlaceholderKind> = {
  '*': 'any',
  base64: 'base64',
  int: 'int',
};

/** Byte-class tables (1 = the byte may appear in the placeholder), indexed by kind. */
export const CLASS_TABLES: Record<PlaceholderKind, Uint8Array> = (() => {
  const seg = new Uint8Array(256).fill(1);
  seg[0x3a] = 0;
  const any = new Uint8Array(256).fill(1);
  const base64 = new Uint8Array(256);
  for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_') base64[c.charCodeAt(0)] = 1;
  const int = new Uint8Array(256);
  for (let c = 0x30; c <= 0x39; c++) int[c] = 1;
  return { seg, any, base64, int };
})();

export function kindLabel(kind: PlaceholderKind): string {
  return kind === 'seg' ? '' : kind === 'any' ? ':*' : `:${kind}`;
}

/** Render a placeholder back to template syntax, e.g. `{id:int}`. */
export function placeholderText(name: string, kind: PlaceholderKind): string {
  return `{${name}${kindLabel(kind)}}`;
}

/**
 * Parse a template. In a rename template a placeholder only refers to a capture; a kind written
 * there is reported through `explicitType` so the caller can check it agrees with the match.
 */
export function parseTemplate(source: string): Template {
  const segments: Segment[] = [];
  const variables: string[] = [];
  let lit = '';
  const flush = (): void => {
    if (lit.length > 0) {
      const bytes = Buffer.from(lit, 'utf8');
      const last = segments[segments.length - 1];
      if (last !== undefined && last.kind === 'lit') last.bytes = Buffer.concat([last.bytes, bytes]);
      else segments.push({ kind: 'lit', bytes });
      lit = '';
    }
  };
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '{') {
      if (source[i + 1] === '{') {
        lit += '{';
        i += 2;
        continue;
      }
      const close = source.indexOf('}', i + 1);
      if (close < 0) throw new TemplateSyntaxError(`unclosed "{" (write "{{" for a literal brace)`, i);
      const body = source.slice(i + 1, close);
      const colon = body.indexOf(':');
      const name = colon < 0 ? body : body.slice(0, colon);
      const kindText = colon < 0 ? null : body.slice(colon + 1);
      if (!NAME_RE.test(name)) {
        throw new TemplateSyntaxError(
          `bad placeholder "{${body}}": a name is letters, digits and _ and does not start with a digit`,
          i,
        );
      }
      let type: PlaceholderKind = 'seg';
      if (kindText !== null) {
        const k = KIND_SPELLINGS[kindText];
        if (k === undefined) {
          throw new TemplateSyntaxError(
            `unknown placeholder type "${kindText}" in "{${body}}" (use {${name}}, {${name}:*}, {${name}:base64} or {${name}:int})`,
            i,
          );
        }
        type = k;
      }
      flush();
      segments.push({ kind: 'var', name, type, explicitType: kindText !== null, at: i });
      if (!variables.includes(name)) variables.push(name);
      i = close + 1;
      continue;
    }
    if (ch === '}') {
      if (source[i + 1] === '}') {
        lit += '}';
        i += 2;
        continue;
      }
      throw new TemplateSyntaxError(`unmatched "}" (write "}}" for a literal brace)`, i);
    }
    lit += ch;
    i++;
  }
  flush();
  return { source, segments, variables };
}

/** The literal bytes every matching key starts with. */
export function literalPrefix(segments: readonly Segment[]): Buffer {
  const first = segments[0];
  return first !== undefined && first.kind === 'lit' ? first.bytes : Buffer.alloc(0);
}

/** True if the template is only literal text (it matches exactly one key). */
export function isLiteralOnly(segments: readonly Segment[]): boolean {
  return segments.every((s) => s.kind === 'lit');
}

/** Concatenate the template with values for its placeholders. */
export function instantiate(segments: readonly Segment[], values: Record<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const s of segments) {
    if (s.kind === 'lit') parts.push(s.bytes);
    else {
      const v = values[s.name];
      if (v === undefined) throw new Error(`no value for {${s.name}}`);
      parts.push(v);
    }
  }
  return Buffer.concat(parts);
}

/** Whether every byte of `value` is allowed for `kind` and it is non-empty. */
export function fitsKind(kind: PlaceholderKind, value: Buffer): boolean {
  if (value.length === 0) return false;
  const t = CLASS_TABLES[kind];
  for (let i = 0; i < value.length; i++) if (t[value[i]!] === 0) return false;
  return true;
}

/**
 * Pairs of adjacent placeholders whose byte classes overlap (`{a}{b}`): the split between them is
 * ambiguous (the matcher takes the longest first value), which usually is not what was meant.
 */
export function ambiguousAdjacency(segments: readonly Segment[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 1; i < segments.length; i++) {
    const a = segments[i - 1]!;
    const b = segments[i]!;
    if (a.kind === 'var' && b.kind === 'var') {
      const ta = CLASS_TABLES[a.type];
      const tb = CLASS_TABLES[b.type];
      let overlap = false;
      for (let c = 0; c < 256 && !overlap; c++) if (ta[c] && tb[c]) overlap = true;
      if (overlap) out.push([a.name, b.name]);
    }
  }
  return out;
}
