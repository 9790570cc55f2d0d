/** A fetch that never answers and rejects when aborted; records every signal it was given. */
export function hangingFetch(signals: AbortSignal[]): typeof fetch {
  return ((_url: string, init?: RequestInit) => {
    signals.push(init!.signal!);
    return new Promise((_resolve, reject) =>
      init!.signal!.addEventListener('abort', () => reject(init!.signal!.reason)),
    );
  }) as unknown as typeof fetch;
}
