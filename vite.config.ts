import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The page (React) plus one module worker that owns the GPU. WGSL files are imported with `?raw`,
// which Vite handles natively in both the page and the worker bundles.
export default defineConfig({
  plugins: [react()],
  worker: { format: 'es' },
  build: { outDir: 'dist', target: 'es2022', sourcemap: true },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
