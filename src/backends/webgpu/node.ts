// The node entry to WebGPU: dawn.node from the npm `webgpu` package. Used by the CLI and tests only;
// the browser build never imports this file.
//
// The object returned by create() must stay strongly referenced for the life of the process:
// if it is garbage-collected while a device is alive, dawn.node crashes at random. Hence the
// module-level constant.

import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, globals } from 'webgpu';

export const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Pick a Vulkan driver before dawn.node starts. A user's VK_ICD_FILENAMES always wins. With no
 * GPU device node on the machine (/dev/dri render nodes, /dev/nvidia*), use a software driver:
 * lavapipe (Mesa ≥ 24) if installed, else the SwiftShader in Debian's chromium package.
 */
export function chooseVulkanDriver(env: NodeJS.ProcessEnv = process.env): string {
  if (!env.XDG_RUNTIME_DIR) {
    const dir = join(tmpdir(), `v3lab-xdg-${process.getuid?.() ?? 0}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    env.XDG_RUNTIME_DIR = dir;
  }
  if (env.VK_ICD_FILENAMES) return `VK_ICD_FILENAMES=${env.VK_ICD_FILENAMES} (set by user)`;
  const hasHardware = existsSync('/dev/nvidia0') || (existsSync('/dev/dri') && hasRenderNode());
  if (hasHardware) return 'system Vulkan drivers (a GPU device node is present)';
  if (existsSync(LAVAPIPE_ICD)) {
    env.VK_ICD_FILENAMES = LAVAPIPE_ICD;
    return 'lavapipe (software Vulkan, Mesa)';
  }
  if (existsSync(SWIFTSHADER_ICD)) {
    env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    return 'SwiftShader (software Vulkan, from the chromium package)';
  }
  return 'no GPU and no software Vulkan driver found';
}

function hasRenderNode(): boolean {
  try {
    return readdirSync('/dev/dri').some((f: string) => f.startsWith('renderD'));
  } catch {
    return false;
  }
}

export const DRIVER_CHOICE = chooseVulkanDriver();

Object.assign(globalThis, globals);

const NODE_GPU: GPU = create([]) as GPU;

export function nodeGpu(): GPU {
  return NODE_GPU;
}

export const NO_ADAPTER_HELP =
  'No WebGPU adapter found. On a machine without a GPU install a software Vulkan driver: ' +
  'Mesa >= 24 lavapipe (Debian 12: enable bookworm-backports, then apt-get install -t bookworm-backports mesa-vulkan-drivers) ' +
  'or Debian\'s chromium package (ships SwiftShader). See README "Tests without a GPU".';

/** A WebGPU backend on this machine's adapter (node only). Throws with install help if none. */
export async function createNodeBackend(): Promise<import('./backend').WebGPUBackend> {
  const { WebGPUBackend } = await import('./backend');
  const adapter = await NODE_GPU.requestAdapter();
  if (!adapter) throw new Error(`${NO_ADAPTER_HELP} (driver choice: ${DRIVER_CHOICE})`);
  return WebGPUBackend.create(NODE_GPU);
}
