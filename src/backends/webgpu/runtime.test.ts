// The WebGPU runtime itself: pipeline cache keys, compile errors that name the kernel,
// device loss, buffer reuse only after submit.
import { describe, expect, it } from 'vitest';
import { gpuBackend } from '../../test/gpu';
import { WebGPUBackend } from './backend';
import { nodeGpu } from './node';
import { ShaderCompileError, pipelineKey, type Kernel } from './pipelines';
import { DeviceLostError, packUniforms } from './runtime';

const fillKernel: Kernel = {
  name: 'test_fill',
  code: `
    override WG: u32 = 64u;
    @group(0) @binding(0) var<storage, read_write> out: array<f32>;
    struct P { n: u32, value: f32 }
    @group(0) @binding(1) var<uniform> p: P;
    @compute @workgroup_size(WG) fn main(@builtin(global_invocation_id) g: vec3u) {
      if (g.x < p.n) { out[g.x] = p.value; }
    }`,
};

describe('WebGPU runtime', () => {
  it('caches pipelines by kernel + override constants', async () => {
    const be = await gpuBackend();
    expect(pipelineKey(fillKernel, { WG: 64 })).toBe(pipelineKey(fillKernel, { WG: 64 }));
    expect(pipelineKey(fillKernel, { WG: 64 })).not.toBe(pipelineKey(fillKernel, { WG: 32 }));
    const a = await be.rt.pipelines.get(fillKernel, { WG: 64 });
    const b = await be.rt.pipelines.get(fillKernel, { WG: 64 });
    const c = await be.rt.pipelines.get(fillKernel, { WG: 32 });
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it('runs a recorded kernel with uniforms, in one submit', async () => {
    const be = await gpuBackend();
    const t = be.empty([100]);
    const before = be.rt.submits;
    be.rt.record({
      kernel: fillKernel,
      overrides: { WG: 64 },
      buffers: [be.buf(t)],
      uniform: packUniforms('uf', [100, 2.5]),
      workgroups: [2, 1, 1],
    });
    be.rt.record({
      kernel: fillKernel,
      overrides: { WG: 32 },
      buffers: [be.buf(t)],
      uniform: packUniforms('uf', [50, -1]),
      workgroups: [2, 1, 1],
    });
    await be.flush();
    expect(be.rt.submits).toBe(before + 1);
    const v = await t.read();
    expect(v[0]).toBe(-1);
    expect(v[49]).toBe(-1);
    expect(v[50]).toBe(2.5);
    expect(v[99]).toBe(2.5);
  });

  it('reports a shader compile error naming the kernel', async () => {
    const be = await gpuBackend();
    const bad: Kernel = {
      name: 'broken_kernel',
      code: '@compute @workgroup_size(1) fn main() { let x: f32 = undefined_thing; }',
    };
    const t = be.empty([4]);
    be.rt.record({ kernel: bad, buffers: [], workgroups: [1, 1, 1] });
    const err = await be.flush().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShaderCompileError);
    expect(String((err as Error).message)).toMatch(/kernel "broken_kernel".*undefined_thing/);
    // The runtime keeps working afterwards.
    be.rt.record({
      kernel: fillKernel,
      buffers: [be.buf(t)],
      uniform: packUniforms('uf', [4, 7]),
      workgroups: [1, 1, 1],
    });
    expect(Array.from(await t.read())).toEqual([7, 7, 7, 7]);
  });

  it('reuses a released buffer only after the work before its release was submitted', async () => {
    const be = await gpuBackend();
    const a = be.empty([1000]);
    const bufA = be.buf(a);
    a.dispose();
    const b = be.empty([1000]);
    expect(be.buf(b)).not.toBe(bufA); // not yet submitted: must not alias
    await be.flush();
    const c = be.empty([1000]);
    expect(be.buf(c)).toBe(bufA);
  });

  it('turns device loss into a clear error', async () => {
    const own = await WebGPUBackend.create(nodeGpu());
    own.rt.device.destroy();
    await new Promise((r) => setTimeout(r, 50));
    await own.rt.device.lost;
    await new Promise((r) => setTimeout(r, 0));
    expect(() => own.zeros([4])).toThrow(DeviceLostError);
    expect(() => own.zeros([4])).toThrow(/GPU device lost \(destroyed\)/);
  });
});
