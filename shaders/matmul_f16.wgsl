enable f16;

// The f16 tile prelude of shaders/matmul.wgsl, prepended by the host (matmul.ts) where the
// device has shader-f16 and the backend's matmul path is 'f16' (device.ts KernelPaths). The A
// and B tiles then live in workgroup memory as f16: half the footprint (a deeper K tile fits in
// the same memory: fewer barriers per product) and half the bytes every thread reads from
// workgroup memory per FMA, which is what bounds this kernel's inner loop on real GPUs
// (four vec4 loads per 64 FMAs). Global memory stays f32 and the accumulators stay f32; see
// "Tile precision" in matmul.wgsl. Values beyond f16's range (|x| > 65504) become ±inf and
// values below 6.1e-5 lose precision (subnormals): an opt-in path for activations and weights
// of ordinary magnitude.
alias TILE = f16;
