import { describe, expect, it } from 'vitest';
import { compileRules } from '../../src/rules/index.js';
import { decideKey, type DecisionContext } from '../../src/pipeline/key-decision.js';
import { utf8 as b } from '../helpers/bytes.js';

const NOW = 1_000_000;
const rules = compileRules({
  unmatched: 'keep',
  rules: [
    { name: 'moved', match: 'old:{id}', rename: 'new:{id}', to_db: 3 },
    { name: 'persist', match: 'sess:{id}', ttl: 'drop' },
    { name: 'short', match: 'tmp:{id}', ttl: 500 },
    { name: 'only-db1', match: 'db1:{id}', rename: 'one:{id}', db: 1 },
  ],
});
const ctx = (o: Partial<DecisionContext> = {}): DecisionContext => ({ rules, unmatched: 'keep', dropExpired: true, now: NOW, ...o });

describe('decideKey: the one per-key decision', () => {
  it('renames and moves a key, keeping its TTL', () => {
    const d = decideKey({ db: 0, key: b('old:7'), expireAtMs: NOW + 10 }, ctx());
    expect(d).toMatchObject({ kind: 'keep', db: 3, expireAtMs: NOW + 10, renamed: true, ttlChanged: false });
    expect(d.kind === 'keep' && d.key.toString()).toBe('new:7');
  });

  it('applies the rule TTL policy before the expiry check', () => {
    // Expired in the source, but the rule makes it persistent: kept.
    expect(decideKey({ db: 0, key: b('sess:1'), expireAtMs: NOW - 1 }, ctx())).toMatchObject({ kind: 'keep', expireAtMs: null, ttlChanged: true });
    // No TTL in the source; the rule sets one relative to now.
    expect(decideKey({ db: 0, key: b('tmp:1'), expireAtMs: null }, ctx())).toMatchObject({ kind: 'keep', expireAtMs: NOW + 500 });
    // Expired and unmatched: dropped unless expired keys are kept.
    expect(decideKey({ db: 0, key: b('x'), expireAtMs: NOW }, ctx())).toMatchObject({ kind: 'expired', classification: null });
    expect(decideKey({ db: 0, key: b('x'), expireAtMs: NOW }, ctx({ dropExpired: false }))).toMatchObject({ kind: 'keep', renamed: false });
  });

  it('follows the unmatched mode', () => {
    expect(decideKey({ db: 0, key: b('x'), expireAtMs: null }, ctx({ unmatched: 'drop' })).kind).toBe('unmatched-drop');
    expect(decideKey({ db: 0, key: b('x'), expireAtMs: null }, ctx({ unmatched: 'error' })).kind).toBe('unmatched-error');
    expect(decideKey({ db: 2, key: b('x'), expireAtMs: null }, ctx())).toMatchObject({ kind: 'keep', db: 2, classification: null });
  });

  it('honours db-restricted rules; a bare key listing (no db) is not restricted', () => {
    expect(decideKey({ db: 0, key: b('db1:a'), expireAtMs: null }, ctx())).toMatchObject({ kind: 'keep', renamed: false });
    expect(decideKey({ db: 1, key: b('db1:a'), expireAtMs: null }, ctx())).toMatchObject({ kind: 'keep', renamed: true, db: 1 });
    expect(decideKey({ db: undefined, key: b('db1:a'), expireAtMs: null }, ctx())).toMatchObject({ kind: 'keep', renamed: true, db: 0 });
  });

  it('without rules, only expiry decides', () => {
    expect(decideKey({ db: 5, key: b('old:1'), expireAtMs: null }, ctx({ rules: null }))).toMatchObject({ kind: 'keep', db: 5, renamed: false });
  });
});
