// Page entry: boot the lab (share link, run history, worker), keep the URL hash in step with the
// config, expose the read-only debug handle (window.__v3lab), and route stray errors to the banner.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { exposeDebugHandle, syncHash } from './ui/page-hooks';
import { useLab } from './ui/store';
import './ui/styles.css';

exposeDebugHandle(window);
window.addEventListener('unhandledrejection', (e) => useLab.getState().reportError(e.reason));
window.addEventListener('error', (e) => {
  // Benign: a resize observer (charts follow their width) took one more frame to settle.
  if (String(e.message).startsWith('ResizeObserver loop')) return;
  useLab.getState().reportError(e.error ?? e.message);
});

// Boot outside React (StrictMode runs effects twice in development). boot() applies the link
// synchronously before its first await, so the hash sync starts from the linked state.
void useLab.getState().boot();
syncHash();
window.addEventListener('hashchange', () => useLab.getState().openLink(location.hash));

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
