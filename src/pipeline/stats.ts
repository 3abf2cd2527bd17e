import { toPrintable } from '../records/printable.js';

const MAX_LISTED = 1000;

/** Counters and bounded key lists of a transform/import run (the migration report's body). */
export class MigrationStats {
  totalKeysFound = 0;
  migratedSuccessfully = 0;
  migrationErrors = 0;
  skippedExisting = 0;
  unmatchedKeys = 0;
  unmatchedDropped = 0;
  expiredDropped = 0;
  filteredOut = 0;
  collisions = 0;
  vanished = 0;
  /** Empty lists/sets/zsets/hashes: Redis skips them on load (rdbLoadObject's empty-key error), so do we. */
  emptyDropped = 0;
  readonly perCategory = new Map<string, number>();
  readonly migratedKeys: Array<{ db: number; old_key: unknown; new_key: unknown; category: string | null }> = [];
  readonly errorKeys: Array<{ db: number; key: unknown; error: string }> = [];
  /**
   * Input keys dropped because an earlier key already took their name, by where they came from (the
   * target db may differ again by the sink's --to-db): the report names them.
   */
  readonly collisionKeys: Array<{ source_db: number; source_key: unknown; new_key: unknown }> = [];

  category(cat: string): void {
    this.perCategory.set(cat, (this.perCategory.get(cat) ?? 0) + 1);
  }

  migrated(db: number, oldKey: Buffer, newKey: Buffer, category: string | null): void {
    this.migratedSuccessfully++;
    if (this.migratedKeys.length < MAX_LISTED) {
      this.migratedKeys.push({ db, old_key: toPrintable(oldKey), new_key: toPrintable(newKey), category });
    }
  }

  collided(sourceDb: number, sourceKey: Buffer, newKey: Buffer): void {
    this.collisions++;
    if (this.collisionKeys.length < MAX_LISTED) this.collisionKeys.push({ source_db: sourceDb, source_key: toPrintable(sourceKey), new_key: toPrintable(newKey) });
  }

  error(db: number, key: Buffer, message: string): void {
    this.migrationErrors++;
    if (this.errorKeys.length < MAX_LISTED) this.errorKeys.push({ db, key: toPrintable(key), error: message });
  }

  toJSON(): Record<string, number> {
    const s: Record<string, number> = {
      total_keys_found: this.totalKeysFound,
      migrated_successfully: this.migratedSuccessfully,
      migration_errors: this.migrationErrors,
      skipped_existing: this.skippedExisting,
      unmatched_keys: this.unmatchedKeys,
      unmatched_dropped: this.unmatchedDropped,
      expired_dropped: this.expiredDropped,
      filtered_out: this.filteredOut,
      collisions: this.collisions,
    };
    if (this.vanished > 0) s.vanished = this.vanished;
    if (this.emptyDropped > 0) s.empty_collections_dropped = this.emptyDropped;
    for (const [cat, n] of this.perCategory) s[`${cat}_keys`] = n;
    return s;
  }
}
