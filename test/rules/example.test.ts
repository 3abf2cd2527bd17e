import { describe, expect, it } from 'vitest';
import { runBuiltinTests, runFileTests } from '../../src/rules/embedded-tests.js';
import { loadRules } from '../../src/rules/index.js';
import { b, renamed } from './helpers.js';

const YAML = 'examples/meta-glasses.rules.yaml';
const JSON_TWIN = 'examples/meta-glasses.rules.json';
const P = 'josancamon:rayban-meta-glasses-api:';

describe('examples/meta-glasses.rules.yaml', () => {
  it('every embedded test passes, and every built-in base64 round trip', async () => {
    const rules = await loadRules(YAML);
    const file = runFileTests(rules);
    expect(file.length).toBeGreaterThanOrEqual(20);
    expect(file.filter((t) => !t.ok).map((t) => [t.name, t.failures])).toEqual([]);
    const builtin = runBuiltinTests(rules);
    expect(builtin.length).toBeGreaterThan(0);
    expect(builtin.filter((t) => !t.ok).map((t) => [t.name, t.failures])).toEqual([]);
  });

  it('has tests for each of the five mappings', async () => {
    const rules = await loadRules(YAML);
    const categories = new Set(runFileTests(rules).map((t) => t.actual?.category));
    for (const c of ['cache', 'reminder', 'user_history', 'user_profile', 'cancellation']) expect(categories).toContain(c);
  });

  it('implements the guide\'s mapping table', async () => {
    const r = await loadRules(YAML);
    const table: Array<[string, string, string]> = [
      [`${P}QUJD+/9=`, 'meta-glasses:cache:generic:QUJD+/9=', 'cache'],
      [`${P}reminder:evt1`, 'meta-glasses:reminder:event:evt1', 'reminder'],
      [`${P}conversation_history:u1`, 'meta-glasses:user:history:u1', 'user_history'],
      [`${P}user_profile:u1`, 'meta-glasses:user:profile:u1', 'user_profile'],
      [`${P}cancellation:wa:u1`, 'meta-glasses:state:cancellation:wa:u1', 'cancellation'],
    ];
    for (const [oldKey, newKey, category] of table) {
      const c = r.classify(b(oldKey))!;
      expect([c.newKey.toString(), c.category]).toEqual([newKey, category]);
      // and the application's fallback read: new → old
      expect(r.toOldKey(b(newKey))!.toString()).toBe(oldKey);
    }
  });

  it('edge cases: bare prefixes are not cache entries, empty ids do not rename', async () => {
    const r = await loadRules(YAML);
    expect(r.classify(b(`${P}reminder`))!.category).toBe('malformed');
    expect(renamed(r, `${P}reminder`)).toBe(`${P}reminder`);
    expect(r.classify(b(`${P}reminder:`))!.category).toBe('malformed');
    expect(r.classify(b(`${P}`))).toBeNull();
    expect(renamed(r, `${P}reminder:a:b`)).toBe('meta-glasses:reminder:event:a:b');
    expect(renamed(r, `${P}ab-_==`)).toBe('meta-glasses:cache:generic:ab-_==');
    // the bare-prefix rule is reached, and the cache rule would also have matched it
    expect(r.matchingRules(b(`${P}reminder`))).toEqual([4, 5]);
  });

  it('the JSON twin compiles to the same rules and tests', async () => {
    const y = await loadRules(YAML);
    const j = await loadRules(JSON_TWIN);
    const shape = (r: typeof y): unknown => ({
      unmatched: r.unmatched,
      rules: r.rules.map(({ name, category, match, regex, rename, types, dbs, toDb, ttl }) => ({ name, category, match, regex, rename, types, dbs, toDb, ttl })),
      tests: r.tests.map((t) => ({ ...t, loc: undefined })),
    });
    expect(shape(j)).toEqual(shape(y));
    expect(runFileTests(j).every((t) => t.ok)).toBe(true);
  });
});
