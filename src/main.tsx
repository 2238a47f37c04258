// Page entry: mount the lab UI, expose the read-only debug handle (window.__v3lab), and route
// stray page errors to the error banner instead of the console alone.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { exposeDebugHandle, useLab } from './ui/store';
import './ui/styles.css';

exposeDebugHandle(window);
window.addEventListener('unhandledrejection', (e) => useLab.getState().reportError(e.reason));
window.addEventListener('error', (e) => useLab.getState().reportError(e.error ?? e.message));

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
