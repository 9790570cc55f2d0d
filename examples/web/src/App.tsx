import { useMemo, useState } from 'react';
import type { EngineStats } from 'rx-bloombits';
import { EMPTY, interval, map, startWith } from 'rxjs';
import type { IndexController } from './indexController.js';
import { QueryPanel } from './QueryPanel.js';
import { injectedProvider, rpcSource, sampleSource } from './sources.js';
import { useObservable } from './useObservable.js';

function SourcePicker({ controller }: { controller: IndexController }) {
  const [url, setUrl] = useState('http://127.0.0.1:8545');
  const provider = injectedProvider();
  return (
    <div className="source">
      <button type="button" data-testid="use-sample" onClick={() => controller.open(sampleSource)}>
        Bundled sample
      </button>
      <input
        data-testid="rpc-url"
        value={url}
        onChange={(e) => setUrl(e.target.value)}
        aria-label="JSON-RPC URL"
      />
      <button
        type="button"
        data-testid="use-rpc"
        onClick={() => controller.open(rpcSource(url, `rpc:${url}`))}
      >
        Use JSON-RPC URL
      </button>
      <button
        type="button"
        data-testid="use-provider"
        disabled={provider === undefined}
        title={provider === undefined ? 'no injected provider (window.ethereum) on this page' : ''}
        onClick={() => provider && controller.open(rpcSource(provider, 'injected provider'))}
      >
        Use wallet provider
      </button>
    </div>
  );
}

function IndexPanel({ controller }: { controller: IndexController }) {
  const state = useObservable(controller.state$, controller.state$.value);
  const { phase, info } = state;
  return (
    <section className="index" data-testid="index">
      <h2>Index: {state.source.label}</h2>
      <SourcePicker controller={controller} />
      <div className="buttons">
        <button
          type="button"
          data-testid="index-start"
          disabled={phase === 'indexing' || phase === 'opening'}
          onClick={() => controller.start()}
        >
          {phase === 'ready' ? 'Index new blocks' : 'Build index'}
        </button>
        <button
          type="button"
          data-testid="index-cancel"
          disabled={phase !== 'indexing'}
          onClick={() => controller.cancel()}
        >
          Stop
        </button>
        <button
          type="button"
          data-testid="index-clear"
          disabled={phase === 'opening'}
          onClick={() => controller.clear()}
        >
          Clear index
        </button>
      </div>
      <progress
        data-testid="index-progress"
        value={Math.max(0, state.head + 1)}
        max={Math.max(1, state.target + 1)}
      />
      <p>
        <output data-testid="index-phase">{phase}</output> · head{' '}
        <output data-testid="index-head">{state.head}</output>
        {info !== undefined && (
          <>
            {' '}
            · <output data-testid="index-sections">{info.sections}</output> sections committed,{' '}
            {info.tailLength} blocks in the unindexed tail
          </>
        )}{' '}
        · <output data-testid="index-blocks-this-load">{state.blocksThisLoad}</output> blocks indexed since
        this page loaded
        {state.indexMs !== undefined && (
          <>
            {' '}
            · last run <output data-testid="index-ms">{state.indexMs}</output> ms
          </>
        )}
      </p>
      {state.error !== undefined && <p className="status error">{state.error}</p>}
    </section>
  );
}

function MatcherStats({ controller }: { controller: IndexController }) {
  const { index } = useObservable(controller.state$, controller.state$.value);
  // The matcher is the index's, shared by both panels: poll its counters while the page is open.
  const stats$ = useMemo(
    () =>
      index === undefined
        ? EMPTY
        : interval(250).pipe(
            startWith(0),
            map((): EngineStats => ({ ...index.snapshot().generation.matcher.stats })),
          ),
    [index],
  );
  const stats = useObservable<EngineStats | undefined>(stats$, undefined);
  if (stats === undefined) return null;
  return (
    <p className="stats" data-testid="matcher-stats">
      Shared matcher: <output data-testid="stat-tasks">{stats.tasks}</output> retrievals,{' '}
      <output data-testid="stat-requested">{stats.vectorsRequested}</output> vectors read,{' '}
      <output data-testid="stat-hits">{stats.cacheHits}</output> cache hits,{' '}
      <output data-testid="stat-cached">{stats.cachedVectors}</output> vectors cached (
      {(stats.cachedBytes / 1024).toFixed(1)} KiB)
    </p>
  );
}

export function App({ controller }: { controller: IndexController }) {
  const { index, source } = useObservable(controller.state$, controller.state$.value);
  return (
    <main>
      <h1>rx-bloombits in the browser</h1>
      <IndexPanel controller={controller} />
      <MatcherStats controller={controller} />
      <div className="panels">
        {[0, 1].map((id) => (
          <QueryPanel key={id} id={id} index={index} source={source} preset={id} />
        ))}
      </div>
    </main>
  );
}
