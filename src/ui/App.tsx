// The lab page: header, notices, controls and progress, config panels beside the charts and
// samples, and the runs table. Each panel is its own component (panels/); all state lives in the
// store. Panels named in the link's `hide=` (embed mode) are not rendered at all; the panels
// that have no name there yet go with the nearest one: precision with model, the MoE views with
// charts, attention with samples.

import { Component, type ReactNode } from 'react';
import type { HideablePanel } from '../lab/share';
import { AttentionPanel } from './panels/AttentionPanel';
import { Banners } from './panels/Banners';
import { ChartsPanel } from './panels/ChartsPanel';
import { ConfirmDialog } from './panels/ConfirmDialog';
import { Controls } from './panels/Controls';
import { DataPanel } from './panels/DataPanel';
import { Header } from './panels/Header';
import { ModelPanel } from './panels/ModelPanel';
import { MoePanel } from './panels/MoePanel';
import { NoWebGpu } from './panels/NoWebGpu';
import { OptimPanel } from './panels/OptimPanel';
import { PrecisionPanel } from './panels/PrecisionPanel';
import { PresetPanel } from './panels/PresetPanel';
import { ExportPanel } from './panels/ExportPanel';
import { RlPanel } from './panels/RlPanel';
import { RolloutPanel } from './panels/RolloutPanel';
import { RunsPanel } from './panels/RunsPanel';
import { SamplesPanel } from './panels/SamplesPanel';
import { DistillView } from './distill/DistillView';
import { FindingsView } from './findings/FindingsView';
import { PipelinesView } from './pipelines/PipelinesView';
import { ViewTabs, useView } from './pipelines/ViewTabs';
import { useLab } from './store';

/** Keeps a rendering bug in one panel from blanking the page. */
class ErrorBoundary extends Component<{ name: string; children: ReactNode }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  override render() {
    if (this.state.error) {
      return (
        <div className="notice notice-error" role="alert" data-testid="error-banner">
          <div className="notice-head">
            <strong>
              The {this.props.name} panel hit a bug: {this.state.error.message}
            </strong>
            <button type="button" className="link" onClick={() => this.setState({ error: null })}>
              Try again
            </button>
          </div>
        </div>
      );
    }
    return this.props.children;
  }
}

export function App() {
  const hide = useLab((s) => s.hide);
  const shown = (p: HideablePanel) => !hide.includes(p);
  // A sub-panel is hidden by its own name or with its parent (precision with model, …).
  const slot = (p: HideablePanel, node: ReactNode, name: string = p) =>
    shown(p) && (name === p || shown(name as HideablePanel)) ? (
      <ErrorBoundary key={name} name={name}>
        {node}
      </ErrorBoundary>
    ) : null;
  const sidebar = shown('presets') || shown('model') || shown('optim') || shown('data');
  // The Pipelines view (?view=pipelines): a schedule simulator beside the lab, not inside it.
  const [view, setView] = useView();
  if (view === 'pipelines' || view === 'distill' || view === 'findings')
    return (
      <div className="app">
        <ViewTabs view={view} onChange={setView} />
        {view === 'distill' && <Banners />}
        <ErrorBoundary name={view}>
          {view === 'pipelines' ? <PipelinesView /> : view === 'distill' ? <DistillView /> : <FindingsView />}
        </ErrorBoundary>
      </div>
    );

  return (
    <div className={`app${hide.length ? ' embed' : ''}`}>
      {!hide.length && <ViewTabs view={view} onChange={setView} />}
      {slot('header', <Header />)}
      <NoWebGpu />
      <Banners />
      {slot('controls', <Controls />)}
      <div className={`layout${sidebar ? '' : ' no-sidebar'}`}>
        {sidebar && (
          <aside className="sidebar">
            {slot('presets', <PresetPanel />)}
            {slot('model', <ModelPanel />)}
            {slot('model', <PrecisionPanel />, 'precision')}
            {slot('optim', <OptimPanel />)}
            {slot('optim', <RlPanel />, 'rl')}
            {slot('data', <DataPanel />)}
          </aside>
        )}
        <main className="content">
          {slot('charts', <ChartsPanel />)}
          {slot('charts', <MoePanel />, 'moe')}
          {slot('samples', <SamplesPanel />)}
          {slot('samples', <AttentionPanel />, 'attention')}
          {slot('samples', <RolloutPanel />, 'rollouts')}
        </main>
      </div>
      {slot('runs', <RunsPanel />)}
      {slot('runs', <ExportPanel takeCheckpoint={() => useLab.getState().checkpointForExport()} />, 'export')}
      <ConfirmDialog />
    </div>
  );
}
