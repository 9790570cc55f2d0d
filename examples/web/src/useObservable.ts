import { useEffect, useState } from 'react';
import type { Observable } from 'rxjs';

/**
 * The latest value of an Observable, re-rendering on each one: subscribes on mount (or when `source`
 * changes) and unsubscribes on unmount. Errors are the source's to turn into values.
 */
export function useObservable<T>(source: Observable<T>, initial: T): T {
  const [value, setValue] = useState(initial);
  useEffect(() => {
    const subscription = source.subscribe(setValue);
    return () => subscription.unsubscribe();
  }, [source]);
  return value;
}
