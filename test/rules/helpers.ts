import { compileRules, parseRulesText, type CompiledRules } from '../../src/rules/index.js';

/** Compile rules from YAML text (named rules.yaml in messages). */
export function rulesFrom(yaml: string, source = 'rules.yaml'): CompiledRules {
  return compileRules(parseRulesText(yaml, source));
}

import { utf8 as b } from '../helpers/bytes.js';
export { b };

/** Classify and return the new key as a UTF-8 string (null when unmatched). */
export function renamed(rules: CompiledRules, key: string | Buffer, type?: Parameters<CompiledRules['classify']>[1], db?: number): string | null {
  const c = rules.classify(typeof key === 'string' ? b(key) : key, type, db);
  return c === null ? null : c.newKey.toString('utf8');
}

/** The error message thrown by fn (or '' when it does not throw). */
export function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}
