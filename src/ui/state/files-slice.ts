// Runs in and out of the page as files: a run as JSON (config, metrics, changes, samples), its
// saved weights as .safetensors, and imports of either; the current run's weights for the
// Hugging Face export panel.

import { exportRunJson, importRunJson } from '../../lab/runfile';
import { download } from '../download';
import { describeError } from '../errors';
import { fileSafe, importedWeightsRecord, newRunId } from '../runs';
import type { LabContext } from './context';
import { addRun } from './runs-slice';
import type { FilesSlice } from './types';

async function importFile(ctx: LabContext, file: File): Promise<void> {
  try {
    if (file.name.endsWith('.safetensors')) {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const head = await ctx.worker.ensure().call((lab) => lab.inspectSafetensors(bytes));
      const run = importedWeightsRecord(file.name.replace(/\.safetensors$/, ''), head);
      await addRun(ctx, run);
      await ctx.history.store.putCheckpoint(run.id, bytes);
      ctx.banner('info', `Imported the weights in ${file.name} (step ${head.step}) as ${run.name}.`);
      return;
    }
    const run = importRunJson(await file.text());
    if (ctx.get().runs.some((r) => r.id === run.id)) {
      run.id = newRunId();
      run.name = `${run.name} (copy)`;
    }
    if (run.status === 'running' || run.status === 'paused') run.status = 'stopped';
    await addRun(ctx, run);
  } catch (err) {
    ctx.banner('error', `Could not import ${file.name}: ${describeError(err)}`);
  }
}

export function filesSlice(ctx: LabContext): FilesSlice {
  const { get } = ctx;
  return {
    exportRun(id) {
      const run = get().runs.find((r) => r.id === id);
      if (!run) return;
      try {
        download(`${fileSafe(run.name)}.v3lab.json`, exportRunJson(run), 'application/json');
      } catch (err) {
        ctx.reportError(err, `Could not export ${run.name}`);
      }
    },

    async exportWeights(id) {
      const run = get().runs.find((r) => r.id === id);
      if (!run) return;
      const bytes = await ctx.history.store.getCheckpoint(id);
      if (!bytes) {
        ctx.banner('info', `${run.name} has no saved weights (they are saved when a run finishes or is stopped).`);
        return;
      }
      download(`${fileSafe(run.name)}.safetensors`, bytes as Uint8Array<ArrayBuffer>, 'application/octet-stream');
    },

    importFile: (file) => importFile(ctx, file),

    async checkpointForExport() {
      const c = ctx.worker.current;
      if (!c || !get().info) throw new Error('There is no run to export.');
      return c.call((lab) => lab.checkpoint({ weightsOnly: true }));
    },
  };
}
