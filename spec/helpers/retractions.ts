import type { Log } from '../../src/types/chain.js';

/**
 * The logs a watch leaves standing once every `removed: true` log has retracted its earlier
 * delivery, as `key`s in delivery order. Throws on a retraction of a log that does not stand,
 * and on a log delivered twice while it stands.
 */
export function standingLogs(seen: readonly Log[], key: (log: Log) => string): string[] {
  const up: string[] = [];
  for (const l of seen) {
    const k = key(l);
    const at = up.indexOf(k);
    if (l.removed) {
      if (at < 0) throw new Error(`retracted ${k}, which does not stand`);
      up.splice(at, 1);
    } else {
      if (at >= 0) throw new Error(`delivered ${k} twice`);
      up.push(k);
    }
  }
  return up;
}
