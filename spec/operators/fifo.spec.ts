import fc from 'fast-check';
import { Fifo } from '../../src/operators/fifo.js';

describe('Fifo', () => {
  test('behaves as an array queue under any mix of push, shift, unshiftAll and clear', () => {
    const op = fc.oneof(
      fc.record({ push: fc.integer({ min: 1, max: 3000 }) }),
      fc.record({ shift: fc.integer({ min: 1, max: 3000 }) }),
      fc.record({ unshiftAll: fc.array(fc.integer(), { maxLength: 5 }) }),
      fc.constant({ clear: true }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const fifo = new Fifo<number>();
        const model: number[] = [];
        let next = 0;
        for (const o of ops) {
          if ('push' in o) {
            for (let i = 0; i < o.push; i++) {
              fifo.push(next);
              model.push(next++);
            }
          } else if ('shift' in o) {
            const got: number[] = [];
            for (let i = 0; i < o.shift && got.length < model.length; i++) got.push(fifo.shift());
            expect(got).toEqual(model.splice(0, got.length));
          } else if ('unshiftAll' in o) {
            fifo.unshiftAll(o.unshiftAll);
            model.unshift(...o.unshiftAll);
          } else {
            fifo.clear();
            model.splice(0);
          }
          expect(fifo.length).toBe(model.length);
        }
        expect(Array.from(model, () => fifo.shift())).toEqual(model);
      }),
      { numRuns: 60 },
    );
  });
});
