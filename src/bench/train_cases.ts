// The training-step cases: one optimizer step of a preset's model (forward, backward, grad norm,
// AdamW, balancing), with a census of one step (dispatches, copies, bytes bound, per phase and
// per kernel). Beside ours, "also" runs the same step with the per-tensor optimizer (one norm
// pass and one AdamW dispatch per parameter: the path the arena replaced), so the gain of the
// multi-tensor optimizer is measured in the same run; and where the model fits, the peer is the
// same model written in tfjs-core ops.

import type { WebGPUBackend } from '../backends/webgpu/backend';
import type { RunConfig } from '../config';
import { Tape } from '../engine/tape';
import type { ModelConfig } from '../model/config';
import { RunPipeline } from '../run/pipeline';
import { AdamW } from '../train/optim';
import { disposeHandles } from '../train/stage';
import { type CaseDef, OURS, type Runner, TFJS } from './case_types';
import { trainStepFlops } from './flops';
import type { StepCensus } from './report';
import type { SuiteContext } from './suite';
import { denseStepShape, TfjsDenseStep } from './tfjs_step';

/** Run one step with the runtime's record() and the trainer's phases observed. */
async function stepCensus(be: WebGPUBackend, trainer: RunPipeline): Promise<StepCensus> {
  const rt = be.rt;
  const kernels = new Map<string, number>();
  const phases: Record<string, number> = {};
  let phase = 'forward';
  let bound = 0;
  let count = 0;
  let copies = 0;
  const record = rt.record;
  const recordCopy = rt.recordCopy;
  rt.recordCopy = (src, dst, bytes) => {
    copies++;
    bound += 2 * bytes;
    return recordCopy.call(rt, src, dst, bytes);
  };
  rt.record = (d) => {
    const key = `${d.kernel.name}:${d.kernel.entry ?? 'main'}`;
    kernels.set(key, (kernels.get(key) ?? 0) + 1);
    phases[phase] = (phases[phase] ?? 0) + 1;
    bound += d.buffers.reduce((n, b) => n + b.size, 0);
    count++;
    return record.call(rt, d);
  };
  const backwardFrom = Tape.prototype.backwardFrom;
  Tape.prototype.backwardFrom = function (out, dOut) {
    phase = 'backward';
    return backwardFrom.call(this, out, dOut);
  };
  const optim = trainer.state.optim;
  const update = optim.update;
  optim.update = (...args) => {
    phase = 'optimizer';
    try {
      return update.apply(optim, args);
    } finally {
      phase = 'balancing';
    }
  };
  const submits0 = rt.submits;
  try {
    disposeHandles(await trainer.runStep());
  } finally {
    rt.record = record;
    delete (rt as { record?: unknown }).record;
    rt.recordCopy = recordCopy;
    delete (rt as { recordCopy?: unknown }).recordCopy;
    Tape.prototype.backwardFrom = backwardFrom;
    delete (optim as { update?: unknown }).update;
  }
  const sorted = Object.fromEntries([...kernels].sort((a, b) => b[1] - a[1]));
  return {
    dispatches: count,
    copies,
    submits: rt.submits - submits0,
    bound_bytes: bound,
    phases,
    kernels: sorted,
  };
}

function stepShape(c: ModelConfig, B: number, T: number): string {
  const attn =
    c.attention === 'mla'
      ? `MLA q${c.q_lora_rank}/kv${c.kv_lora_rank}/rope${c.qk_rope_head_dim}`
      : `MHA ${c.num_attention_heads}×${c.hidden_size / c.num_attention_heads}`;
  const f =
    c.ffn === 'moe'
      ? `MoE E=${c.n_routed_experts} top-${c.num_experts_per_tok} +${c.n_shared_experts} shared ×${c.moe_intermediate_size} (first ${c.first_k_dense_replace} dense ×${c.intermediate_size})`
      : `dense SwiGLU ×${c.intermediate_size}`;
  const lowp =
    c.precision.linear === 'lowp'
      ? `, ${c.precision.format} linears (block ${c.precision.block}, ${c.precision.scale} scales)`
      : '';
  const mtp = c.num_nextn_predict_layers ? `, MTP ${c.num_nextn_predict_layers}` : '';
  return `B=${B} T=${T} d=${c.hidden_size} L=${c.num_hidden_layers} ${attn}, ${f}${lowp}${mtp}, V=${c.vocab_size}; AdamW + global-norm clip`;
}

/** A runner of training steps; its first step is the warm-up, observed by stepCensus (untimed). */
function stepRunner(be: WebGPUBackend, name: string, trainer: RunPipeline, onCensus: (c: StepCensus) => void): Runner {
  let first = true;
  return {
    name,
    minReps: 2,
    async run(reps) {
      if (first) {
        first = false;
        onCensus(await stepCensus(be, trainer));
        reps--;
      }
      for (let i = 0; i < reps; i++) disposeHandles(await trainer.runStep());
    },
    finish: () => be.flush(),
    teardown: () => trainer.dispose(),
  };
}

export function trainCase(ctx: SuiteContext, preset: string, cfg: RunConfig): CaseDef {
  const { be, tfjs } = ctx;
  const B = cfg.data.batch_size;
  const T = cfg.data.seq_len;
  // The trainer's vocabulary fixes the model config (and the FLOPs): it is built when the case
  // is made, and disposed with our runner.
  const trainer = new RunPipeline(be, cfg, 1);
  const c = trainer.state.model;
  let census: StepCensus | null = null;
  let oldCensus: StepCensus | null = null;
  let peerCensus: { dispatches: number; boundBytes: number } | null = null;
  const peerFits =
    c.attention === 'mha' &&
    c.ffn === 'dense' &&
    c.precision.linear === 'f32' &&
    c.num_nextn_predict_layers === 0 &&
    c.num_key_value_heads === c.num_attention_heads;
  return {
    name: `train_step_${preset}`,
    group: 'train_step',
    shape: stepShape(c, B, T),
    flops: trainStepFlops(c, B, T),
    bytes: 0,
    tokens: B * T,
    ...(peerFits && tfjs
      ? {
          note: `peer: the same model in tfjs-core ops (${denseStepShape(c, { batch: B, seq: T })}), tf.variableGrads, global-norm clip, tf.train.adam; unfused attention.`,
        }
      : {}),
    // The first call of each runner is its warm-up step: the census is taken there (untimed).
    ours: () =>
      stepRunner(be, OURS, trainer, (x) => {
        census = x;
      }),
    also: [
      () => {
        // The same step with the per-tensor optimizer (its own pipeline: same seed, same weights).
        AdamW.defaultPath = 'per-tensor';
        let old: RunPipeline;
        try {
          old = new RunPipeline(be, cfg, 1);
        } finally {
          AdamW.defaultPath = 'arena';
        }
        return stepRunner(be, 'ours, per-tensor optimizer', old, (x) => {
          oldCensus = x;
        });
      },
    ],
    peer:
      peerFits && tfjs
        ? () => {
            const step = new TfjsDenseStep(tfjs.tf, c, { batch: B, seq: T }, cfg.optim, 1);
            let first = true;
            return {
              name: TFJS,
              minReps: 2,
              run(reps) {
                if (first) {
                  first = false;
                  peerCensus = tfjs.census(() => step.step());
                  reps--;
                }
                for (let i = 0; i < reps; i++) step.step();
              },
              finish: () => tfjs.finish(),
              teardown: () => step.dispose(),
            };
          }
        : undefined,
    extra: async () => {
      if (!census) throw new Error('no step census (the warm-up step did not run)');
      return {
        bytes: census.bound_bytes,
        census,
        ...(oldCensus ? { alsoDispatches: [(oldCensus as StepCensus).dispatches] } : {}),
        ...(peerCensus ? { peerDispatches: peerCensus.dispatches, peerBoundBytes: peerCensus.boundBytes } : {}),
      };
    },
  };
}
