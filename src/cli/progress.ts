import { SingleBar } from 'cli-progress';
import type { IndexProgress } from '../indexer/types.js';

/** Reports indexing progress: a bar on a TTY, one plain line per update otherwise. */
export interface ProgressReporter {
  update(p: IndexProgress): void;
  stop(): void;
}

/**
 * @param target the last block expected, when known (for the bar's total and ETA).
 */
export function progressReporter(stream: NodeJS.WriteStream, target: number | undefined): ProgressReporter {
  if (stream.isTTY) {
    const bar = new SingleBar(
      {
        format:
          'indexing [{bar}] {percentage}% | block {value}/{total} | {sections} sections | {bps} blocks/s | ETA {eta_formatted}',
        stream,
        hideCursor: true,
      },
      undefined,
    );
    bar.start(target ?? 0, 0, { sections: 0, bps: 0 });
    return {
      update: (p) => {
        if (target === undefined || p.headNumber > target) bar.setTotal(p.headNumber);
        bar.update(Math.max(0, p.headNumber), { sections: p.sections, bps: Math.round(p.blocksPerSecond) });
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
      stream.write(
        `indexed to block ${p.headNumber}: ${p.sections} sections, ${Math.round(p.blocksPerSecond)} blocks/s\n`,
      );
    },
    stop: () => undefined,
  };
}
