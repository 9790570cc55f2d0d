import { memo, useEffect, useMemo, useRef, useState } from 'react';
import type { BloomIndex } from 'rx-bloombits';
import { BehaviorSubject, type Subscription } from 'rxjs';
import { emptyFields, type FilterFields, parseFields } from './filterForm.js';
import { presets } from './presets.js';
import { countRetrievals, type QueryView, type Retrievals, runQuery, type ShownLog } from './query.js';
import type { ChainSource } from './sources.js';
import { useObservable } from './useObservable.js';

type Status = 'idle' | 'running' | 'done' | 'cancelled' | 'error';

const fieldLabels: [keyof FilterFields, string, string][] = [
  ['event', 'Event signature or topic0', 'Transfer(address indexed from, address indexed to, uint256 value)'],
  ['address', 'Addresses (OR)', '0x… , 0x…'],
  ['topic1', 'Topic 1', 'any'],
  ['topic2', 'Topic 2', 'any'],
  ['topic3', 'Topic 3', 'any'],
  ['fromBlock', 'From block', '0'],
  ['toBlock', 'To block', 'latest'],
];

const short = (hex: string) => `${hex.slice(0, 8)}…${hex.slice(-4)}`;

const LogRow = memo(function LogRow({ log }: { log: ShownLog }) {
  const block = Number.parseInt(log.blockNumber, 16);
  const logIndex = Number.parseInt(log.logIndex, 16);
  return (
    <tr data-testid="log" data-block={block} data-log-index={logIndex}>
      <td>{block}</td>
      <td>{logIndex}</td>
      <td title={log.address}>{short(log.address)}</td>
      <td className="args">
        {log.args !== undefined
          ? Object.entries(log.args).map(([k, v]) => (
              <span key={k}>
                {k}={v.length > 20 ? short(v) : v}{' '}
              </span>
            ))
          : (log.decodeError ?? log.topics.map(short).join(' '))}
      </td>
    </tr>
  );
});

/** One filter form and its streamed results; every panel queries the same index (one shared matcher). */
export function QueryPanel({
  id,
  index,
  source,
  preset,
}: {
  id: number;
  index: BloomIndex | undefined;
  source: ChainSource;
  /** The sample filter the form starts with. */
  preset: number;
}) {
  const [fields, setFields] = useState<FilterFields>(presets[preset]?.fields ?? emptyFields);
  const [latencyMs, setLatencyMs] = useState(20);
  const [status, setStatus] = useState<Status>('idle');
  const [error, setError] = useState<string>();
  const [view, setView] = useState<QueryView>();
  const retrievals$ = useMemo(
    () => new BehaviorSubject<Retrievals>({ inFlight: 0, fetched: 0, aborted: 0 }),
    [],
  );
  const retrievals = useObservable(retrievals$, retrievals$.value);
  const running = useRef<Subscription>(undefined);

  const stop = () => {
    running.current?.unsubscribe();
    running.current = undefined;
  };
  // A query belongs to the index it was started on: switching or clearing the index cancels it.
  useEffect(() => {
    if (index === undefined) return;
    return () => {
      if (running.current === undefined) return;
      running.current.unsubscribe();
      running.current = undefined;
      setStatus('cancelled');
    };
  }, [index]);

  const run = () => {
    stop();
    setError(undefined);
    setView(undefined);
    if (index === undefined) return;
    let query: ReturnType<typeof parseFields>;
    try {
      query = parseFields(fields);
    } catch (e) {
      setStatus('error');
      setError((e as Error).message);
      return;
    }
    retrievals$.next({ inFlight: 0, fetched: 0, aborted: 0 });
    setStatus('running');
    running.current = runQuery(
      index,
      query,
      countRetrievals(source.receipts(latencyMs), retrievals$),
    ).subscribe({
      next: setView,
      error: (e: unknown) => {
        setStatus('error');
        setError(`${(e as { code?: string }).code ?? ''} ${(e as Error).message}`);
      },
      complete: () => setStatus('done'),
    });
  };

  const cancel = () => {
    stop();
    setStatus('cancelled');
  };

  return (
    <section className="panel" data-testid={`panel-${id}`}>
      <h2>Query {id + 1}</h2>
      <label>
        Preset{' '}
        <select
          data-testid="preset"
          defaultValue={String(preset)}
          onChange={(e) => {
            const chosen = presets[Number(e.target.value)];
            if (chosen !== undefined) setFields(chosen.fields);
          }}
        >
          <option value="" disabled>
            pick a sample filter…
          </option>
          {presets.map((p, i) => (
            <option key={p.name} value={i}>
              {p.name}
            </option>
          ))}
        </select>
      </label>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          run();
        }}
      >
        {fieldLabels.map(([key, label, placeholder]) => (
          <label key={key}>
            {label}
            <input
              data-testid={`f-${key}`}
              value={fields[key]}
              placeholder={placeholder}
              onChange={(e) => setFields({ ...fields, [key]: e.target.value })}
            />
          </label>
        ))}
        <label>
          Simulated receipts latency (ms per block)
          <input
            data-testid="f-latency"
            type="number"
            min={0}
            value={latencyMs}
            onChange={(e) => setLatencyMs(Number(e.target.value))}
          />
        </label>
        <div className="buttons">
          <button type="submit" data-testid="run" disabled={index === undefined}>
            Run
          </button>
          <button type="button" data-testid="cancel" disabled={status !== 'running'} onClick={cancel}>
            Cancel
          </button>
          <button type="button" onClick={() => setFields(emptyFields)}>
            Reset
          </button>
        </div>
      </form>
      <p className={`status ${status}`}>
        <output data-testid="status">{status}</output>
        {error !== undefined && <span data-testid="error"> {error}</span>}
      </p>
      <dl className="counters">
        <dt>candidate blocks</dt>
        <dd data-testid="block-count">{view?.blocks.length ?? 0}</dd>
        <dt>exact logs</dt>
        <dd data-testid="log-count">{view?.logs.length ?? 0}</dd>
        <dt>sections scanned</dt>
        <dd>
          <progress value={view?.sectionsScanned ?? 0} max={view?.sectionsTotal || 1} />{' '}
          <span data-testid="sections">
            {view?.sectionsScanned ?? 0}/{view?.sectionsTotal ?? 0}
          </span>
        </dd>
        <dt>first block / first log</dt>
        <dd>
          <span data-testid="first-block-ms">{view?.firstBlockMs?.toFixed(0) ?? '–'}</span> ms /{' '}
          <span data-testid="first-log-ms">{view?.firstLogMs?.toFixed(0) ?? '–'}</span> ms
        </dd>
        <dt>receipts fetches</dt>
        <dd>
          <span data-testid="in-flight">{retrievals.inFlight}</span> in flight,{' '}
          <span data-testid="fetched">{retrievals.fetched}</span> done,{' '}
          <span data-testid="aborted">{retrievals.aborted}</span> aborted
        </dd>
      </dl>
      <h3>Candidate blocks</h3>
      <ol className="blocks" data-testid="blocks">
        {view?.blocks.map((b) => (
          <li key={b} data-block={b}>
            {b}
          </li>
        ))}
      </ol>
      <h3>Exact logs</h3>
      <table className="logs">
        <thead>
          <tr>
            <th>block</th>
            <th>#</th>
            <th>address</th>
            <th>arguments (or topics)</th>
          </tr>
        </thead>
        <tbody data-testid="logs">
          {view?.logs.map((log) => (
            <LogRow key={`${log.blockNumber}-${log.logIndex}`} log={log} />
          ))}
        </tbody>
      </table>
    </section>
  );
}
