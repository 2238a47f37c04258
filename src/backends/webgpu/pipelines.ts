// Pipeline cache, keyed by kernel name + override constants (the shader text is fixed per name).
// Pipelines are compiled with createComputePipelineAsync; a compile error becomes a
// ShaderCompileError that names the kernel and quotes the compiler's messages.

export interface Kernel {
  /** Unique, stable name, e.g. "matmul". Used as the cache key and in error messages. */
  name: string;
  /** Full WGSL source (shared helpers already prepended by the kernel's module). */
  code: string;
  /** Entry point; defaults to "main". */
  entry?: string;
}

export type Overrides = Record<string, number>;

export class ShaderCompileError extends Error {
  override name = 'ShaderCompileError';
  constructor(
    readonly kernel: string,
    detail: string,
  ) {
    super(`shader compile error in kernel "${kernel}": ${detail}`);
  }
}

export function pipelineKey(kernel: Kernel, overrides: Overrides | undefined): string {
  const entry = kernel.entry ?? 'main';
  if (!overrides) return `${kernel.name}:${entry}`;
  const keys = Object.keys(overrides).sort();
  return `${kernel.name}:${entry}|${keys.map((k) => `${k}=${overrides[k]}`).join(',')}`;
}

export class PipelineCache {
  private readonly ready = new Map<string, GPUComputePipeline>();
  private readonly pending = new Map<string, Promise<GPUComputePipeline>>();
  private readonly modules = new Map<string, GPUShaderModule>();

  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.ready.size;
  }

  /** The compiled pipeline, if it is already in the cache. */
  peek(kernel: Kernel, overrides?: Overrides): GPUComputePipeline | undefined {
    return this.ready.get(pipelineKey(kernel, overrides));
  }

  async get(kernel: Kernel, overrides?: Overrides): Promise<GPUComputePipeline> {
    const key = pipelineKey(kernel, overrides);
    const hit = this.ready.get(key);
    if (hit) return hit;
    let p = this.pending.get(key);
    if (!p) {
      p = this.compile(kernel, overrides).then(
        (pl) => {
          this.ready.set(key, pl);
          this.pending.delete(key);
          return pl;
        },
        (err) => {
          this.pending.delete(key);
          throw err;
        },
      );
      this.pending.set(key, p);
    }
    return p;
  }

  private async module(kernel: Kernel): Promise<GPUShaderModule> {
    let m = this.modules.get(kernel.name);
    if (!m) {
      // Capture module errors here (instead of the device's uncaptured-error path), so a
      // broken shader becomes an error that names its kernel.
      this.device.pushErrorScope('validation');
      m = this.device.createShaderModule({ label: kernel.name, code: kernel.code });
      const err = await this.device.popErrorScope();
      if (err) {
        let detail = err.message;
        try {
          const info = await m.getCompilationInfo();
          const errors = info.messages.filter((x) => x.type === 'error');
          if (errors.length) detail = errors.map((x) => `line ${x.lineNum}:${x.linePos}: ${x.message}`).join('; ');
        } catch {
          // keep the scope's message
        }
        throw new ShaderCompileError(kernel.name, detail);
      }
      this.modules.set(kernel.name, m);
    }
    return m;
  }

  private async compile(kernel: Kernel, overrides?: Overrides): Promise<GPUComputePipeline> {
    const module = await this.module(kernel);
    try {
      return await this.device.createComputePipelineAsync({
        label: kernel.name,
        layout: 'auto',
        compute: { module, entryPoint: kernel.entry ?? 'main', constants: overrides },
      });
    } catch (err) {
      let detail = err instanceof Error ? err.message : String(err);
      try {
        const info = await module.getCompilationInfo();
        const errors = info.messages.filter((m) => m.type === 'error');
        if (errors.length) detail = errors.map((m) => `line ${m.lineNum}:${m.linePos}: ${m.message}`).join('; ');
      } catch {
        // keep the pipeline error's own message
      }
      this.modules.delete(kernel.name);
      throw new ShaderCompileError(kernel.name, detail);
    }
  }
}
