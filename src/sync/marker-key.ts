/** The key `rekey sync` keeps its checkpoint in on the target (--checkpoint-key; sync/target-marker.ts). */
export const DEFAULT_MARKER_KEY = 'rekey-sync:checkpoint';
