// The SiLU / SwiGLU math on vec4s, shared by shaders/activation.wgsl (the elementwise ops) and
// the matmul's SwiGLU prologue and epilogue (matmul_operands.wgsl): one copy of each formula,
// so the fused GEMM and the elementwise kernel give the same bits. Scalars go through these as
// a splatted vec4 and take .x.
//
//   σ(x) = 1/(1 + e^{−x}),   silu(x) = x·σ(x),   silu'(x) = σ(x)·(1 + x·(1 − σ(x)))
//   swiglu(g, u) = silu(g)·u;   dg = dy·u·silu'(g),   du = dy·silu(g)

// [σ(x), 1 − σ(x)] without overflow or cancellation.
fn sigmoid_pair(x: vec4<f32>) -> array<vec4<f32>, 2> {
  let e = exp(-abs(x));
  let big = 1.0 / (1.0 + e);   // σ(|x|)
  let small = e / (1.0 + e);   // σ(−|x|)
  let pos = x >= vec4<f32>(0.0);
  return array<vec4<f32>, 2>(select(small, big, pos), select(big, small, pos));
}

fn silu4(x: vec4<f32>) -> vec4<f32> {
  return x * sigmoid_pair(x)[0];
}

fn silu_grad4(x: vec4<f32>) -> vec4<f32> {
  let s = sigmoid_pair(x);
  return s[0] * (1.0 + x * s[1]);
}

// silu(g)·u.
fn swiglu4(g: vec4<f32>, u: vec4<f32>) -> vec4<f32> {
  return silu4(g) * u;
}

// The gate's backward on 4 elements: [dg, du] = [dy·u·silu'(g), dy·silu(g)].
fn swiglu_bwd4(g: vec4<f32>, u: vec4<f32>, dy: vec4<f32>) -> array<vec4<f32>, 2> {
  let s = sigmoid_pair(g);
  let silu = g * s[0];
  let grad = s[0] * (1.0 + g * s[1]);
  return array<vec4<f32>, 2>(dy * u * grad, dy * silu);
}
