// Node-only pieces of the bench (the page never imports this file): tfjs on dawn.node.

import { createRequire } from 'node:module';
import { nodeGpu } from '../backends/webgpu/node';
import { loadTfjs, type TfjsPeer } from './tfjs';

/**
 * tfjs-core's gradient registrations. In node, '@tensorflow/tfjs-core' resolves to its CommonJS
 * bundle, which has none, and the ESM files under dist/ use extensionless imports that node's
 * ESM loader refuses; require() (through tsx) loads them. Their registrations land in
 * tfjs's global registry, which every copy of tfjs-core shares. Takes a few seconds.
 */
function registerGradientsNode(): Promise<void> {
  createRequire(import.meta.url)('@tensorflow/tfjs-core/dist/register_all_gradients');
  return Promise.resolve();
}

export function loadNodeTfjs(onError: (msg: string) => void = () => {}): Promise<TfjsPeer | null> {
  return loadTfjs(nodeGpu(), registerGradientsNode, onError);
}
