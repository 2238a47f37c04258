// Acquire a GPUDevice in a window, a worker or node (dawn.node; see node.ts for the GPU object).
// We request the adapter's real limits for the resources our kernels use, and every optional
// feature we can exploit that the adapter has. Nothing is assumed beyond what was granted.

export interface GpuFeatures {
  shaderF16: boolean;
  subgroups: boolean;
  timestampQuery: boolean;
}

export interface AcquiredDevice {
  device: GPUDevice;
  adapterLabel: string;
  features: GpuFeatures;
  limits: GPUSupportedLimits;
}

/** The limits our kernels care about; each is raised to what the adapter offers. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

const OPTIONAL_FEATURES: Array<[GPUFeatureName, keyof GpuFeatures]> = [
  ['shader-f16', 'shaderF16'],
  ['subgroups' as GPUFeatureName, 'subgroups'],
  ['timestamp-query', 'timestampQuery'],
];

export class GpuUnavailableError extends Error {
  override name = 'GpuUnavailableError';
}

export function describeAdapter(adapter: GPUAdapter): string {
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  if (!info) return 'unknown adapter';
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((s) => s && s.length > 0);
  return parts.length ? [...new Set(parts)].join(' / ') : 'unknown adapter';
}

export async function acquireDevice(
  gpu: GPU | undefined,
  powerPreference: GPUPowerPreference = 'high-performance',
): Promise<AcquiredDevice> {
  if (!gpu) {
    throw new GpuUnavailableError(
      'WebGPU is not available here (navigator.gpu is missing). Use a browser with WebGPU: Chrome/Edge 113+, Safari 26+, or Firefox 141+ on Windows.',
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference });
  if (!adapter) throw new GpuUnavailableError('WebGPU is present but no GPU adapter was found.');

  const requiredLimits: Record<string, number> = {};
  for (const key of WANTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[key];
    if (typeof v === 'number') requiredLimits[key] = v;
  }
  const requiredFeatures: GPUFeatureName[] = [];
  const features: GpuFeatures = { shaderF16: false, subgroups: false, timestampQuery: false };
  for (const [name, key] of OPTIONAL_FEATURES) {
    if (adapter.features.has(name)) {
      requiredFeatures.push(name);
      features[key] = true;
    }
  }
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'v3lab' });
  return { device, adapterLabel: describeAdapter(adapter), features, limits: device.limits };
}

/**
 * Which optional kernel paths a backend's ops take, where its device has the feature. Set per
 * backend object (a check or test forces a path around the ops it records; the bench picks the
 * matmul path), read when an op records its dispatch.
 */
export interface KernelPaths {
  /** Where the device has `subgroups`: finish the row and tree reductions (reduce, the gradient norm's segments, softmax, RMSNorm) with subgroup shuffles, and route MoE tokens on subgroups. */
  subgroups: boolean;
  /** Most lanes those shuffles use (a power of two ≥ 2): tests lower it to run every width up to the adapter's. */
  subgroupLanes: number;
  /** Matmul and attention: 'f32' tiles, or 'f16' tiles in workgroup memory with f32 accumulation where the device has `shader-f16`. */
  matmul: 'f32' | 'f16';
}

export const DEFAULT_PATHS: Readonly<KernelPaths> = { subgroups: true, subgroupLanes: 128, matmul: 'f32' };

const pathsByBackend = new WeakMap<object, KernelPaths>();

/** The paths a backend takes (the defaults unless set). */
export function kernelPaths(be: object): Readonly<KernelPaths> {
  return pathsByBackend.get(be) ?? DEFAULT_PATHS;
}

/**
 * The most lanes this backend's subgroup paths use (its KernelPaths' subgroupLanes), or null where
 * they are off: the device lacks `subgroups`, or the paths say so.
 */
export function subgroupLanes(be: { rt: { features: GpuFeatures } }): number | null {
  const paths = kernelPaths(be);
  return be.rt.features.subgroups && paths.subgroups ? paths.subgroupLanes : null;
}

/** Set some of a backend's paths; returns the paths it had. */
export function setKernelPaths(be: object, paths: Partial<KernelPaths>): Readonly<KernelPaths> {
  const before = kernelPaths(be);
  const lanes = paths.subgroupLanes;
  if (lanes !== undefined && (!Number.isInteger(lanes) || lanes < 2 || (lanes & (lanes - 1)) !== 0))
    throw new Error(`subgroupLanes must be a power of two ≥ 2, got ${lanes}`);
  pathsByBackend.set(be, { ...before, ...paths });
  return before;
}

/** Run fn (which records ops) with some paths forced, then restore the backend's own. */
export function withKernelPaths<T>(be: object, paths: Partial<KernelPaths>, fn: () => T): T {
  const before = setKernelPaths(be, paths);
  try {
    return fn();
  } finally {
    pathsByBackend.set(be, before);
  }
}
