import { SingleBar } from 'cli-progress';
import type { IndexProgress } from '../indexer/types.js';

/** Reports indexing progress: a bar on a TTY, one plain line per second at most otherwise. */
export interface ProgressReporter {
  update(p: IndexProgress): void;
  stop(): void;
}

/**
 * What the run is heading for: the last block (`--to`, or the node's head when the run
 * started), or a file of `size` bytes read up to `position()` (its blocks are unknown ahead).
 */
export type ProgressTarget = { block: number } | { size: number; position: () => number };

/** Whole percent of the way, 0..100 (undefined without a target). */
export function percentDone(p: IndexProgress, target: ProgressTarget | undefined): number | undefined {
  if (target === undefined) return undefined;
  const [value, total] =
    'block' in target ? [Math.max(0, p.headNumber), target.block] : [target.position(), target.size];
  return total <= 0 ? 100 : Math.min(100, Math.floor((value / total) * 100));
}

export function progressReporter(
  stream: NodeJS.WriteStream,
  target: ProgressTarget | undefined,
): ProgressReporter {
  if (stream.isTTY) {
    const bar = new SingleBar(
      {
        format:
          'indexing [{bar}] {percentage}% | block {block} | {sections} sections | {bps} blocks/s | ETA {eta_formatted}',
        stream,
        hideCursor: true,
        etaBuffer: 50,
      },
      undefined,
    );
    // The bar counts blocks against the head, or bytes against the file size: either way its ETA means something.
    const total = target === undefined ? 0 : 'block' in target ? target.block : target.size;
    const value = (p: IndexProgress) =>
      target !== undefined && 'size' in target ? target.position() : Math.max(0, p.headNumber);
    bar.start(total, 0, { block: 0, sections: 0, bps: 0 });
    return {
      update: (p) => {
        if (target === undefined && p.headNumber > bar.getTotal()) bar.setTotal(p.headNumber);
        bar.update(value(p), {
          block: p.headNumber,
          sections: p.sections,
          bps: Math.round(p.blocksPerSecond),
        });
      },
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  return {
    update: (p) => {
      const now = Date.now();
      if (now - last < 1000) return;
      last = now;
      const pct = percentDone(p, target);
      const of =
        target === undefined
          ? ''
          : 'block' in target
            ? ` of ${target.block} (${pct}%)`
            : ` (${pct}% of the file)`;
      stream.write(
        `indexed to block ${p.headNumber}${of}: ${p.sections} sections, ${Math.round(p.blocksPerSecond)} blocks/s\n`,
      );
    },
    stop: () => undefined,
  };
}
