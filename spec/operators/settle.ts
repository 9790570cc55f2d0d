import type { Observable } from 'rxjs';

/** Every notification of `source$`: resolves on complete or error, rejects if it has not settled after `ms`. */
export function settle<T>(source$: Observable<T>, ms = 20_000): Promise<{ values: T[]; error?: unknown }> {
  return new Promise((resolve, reject) => {
    const values: T[] = [];
    const timer = setTimeout(
      () => reject(new Error(`did not settle within ${ms} ms (${values.length} values)`)),
      ms,
    );
    source$.subscribe({
      next: (v) => values.push(v),
      error: (error) => {
        clearTimeout(timer);
        resolve({ values, error });
      },
      complete: () => {
        clearTimeout(timer);
        resolve({ values });
      },
    });
  });
}
