// A run: one TrainState (weights, optimizer, tokenizer, config) and the stages that train it —
// pretraining, then for RL pipeline runs cold-start SFT and GRPO — driven step by step in the
// order the run's Schedule gives. The lab, the CLI, distillation and the page's worker all run
// through this; none of them knows where a stage ends.

import type { Checkpoint, RunConfig } from '../config';
import type { Backend } from '../engine/backend';
import { Rng } from '../engine/rng';
import { Scope } from '../engine/scope';
import { RlContext } from '../rl/context';
import { GrpoStage } from '../rl/grpo';
import { SftStage } from '../rl/sft';
import { handleTensors, type Stage, type StageName, type StepHandles } from '../train/stage';
import { TrainState } from '../train/state';
import { Trainer } from '../train/trainer';
import { runCorpus } from './corpus';
import { checkMemory } from './memory';
import { Schedule } from './schedule';

export class RunPipeline {
  readonly state: TrainState;
  readonly pretrain: Trainer;
  /** The SFT and GRPO stages' shared context (RL pipeline runs only). */
  readonly rl: RlContext | null;
  private readonly stages: Record<StageName, Stage | null>;
  /**
   * The matmul kernel's tiles for this run: precision.compute where the device can (f16 needs
   * shader-f16). Set on the backend when the run is built, so the run built last on a backend
   * decides (runs on one backend take turns).
   */
  readonly matmulTiles: 'f32' | 'f16';

  constructor(be: Backend, cfg: RunConfig, seed: number) {
    const corpus = runCorpus(cfg, seed);
    // Refuse an oversized run before anything is allocated (names the field to change).
    checkMemory(be, cfg, corpus.tokenizer.vocabSize);
    this.matmulTiles = be.matmulTiles(cfg.precision.compute);
    const tokens = corpus.tokenizer.encode(corpus.text);
    // One root stream: the weights' init fork first, then the batch samplers.
    const root = new Rng(seed);
    this.state = new TrainState(be, cfg, seed, corpus.tokenizer, root.fork());
    try {
      this.pretrain = new Trainer(this.state, tokens, root);
    } catch (e) {
      this.state.dispose();
      throw e;
    }
    this.rl = cfg.rl.mode === 'pipeline' ? new RlContext(this.state) : null;
    this.stages = {
      pretrain: this.pretrain,
      sft: this.rl ? new SftStage(this.rl) : null,
      grpo: this.rl ? new GrpoStage(this.rl) : null,
    };
  }

  get be(): Backend {
    return this.state.be;
  }

  get seed(): number {
    return this.state.seed;
  }

  get cfg(): RunConfig {
    return this.state.cfg;
  }

  /** Replace the config between steps (live settings only; the caller validates). */
  set cfg(c: RunConfig) {
    this.state.cfg = c;
  }

  /** Optimizer steps taken (all stages). */
  get step(): number {
    return this.state.step;
  }

  /** The schedule under the current config (live settings move log / eval / checkpoint steps). */
  get schedule(): Schedule {
    return new Schedule(this.state.cfg);
  }

  get done(): boolean {
    return this.state.step >= this.schedule.total;
  }

  /** Tokens through the model so far: pretraining batches, plus the SFT / GRPO stages' own count. */
  get tokensProcessed(): number {
    const pre = Math.min(this.state.step, this.state.cfg.train.steps) * this.pretrain.tokensPerStep;
    return pre + (this.rl?.tokens ?? 0);
  }

  /** Record the next optimizer step in its stage, submit it, and return its device handles. */
  async runStep(): Promise<StepHandles> {
    const st = this.state;
    st.syncLiveModelFields();
    const t = st.step + 1;
    const schedule = this.schedule;
    const span = schedule.stageOf(t);
    const name = span.name;
    const stage = this.stages[name];
    if (!stage) throw new Error(`run: step ${t} belongs to the ${name} stage, which this run does not have`);
    // With rl.reset_optimizer an RL stage starts with fresh AdamW moments (off by default: on
    // grpo-micro carrying pretraining's moments over measured better; see the README's RL notes).
    if (t === span.first && name !== 'pretrain' && st.cfg.rl.reset_optimizer) st.optim.reset();
    const scope = new Scope();
    let out: StepHandles;
    try {
      out = await stage.step(t);
      if (schedule.pipeline) out.stage = name;
      scope.keep(...handleTensors(out));
    } finally {
      scope.end();
    }
    // The step is recorded: count it now, so a live change made while it runs applies to the next.
    st.step = t;
    await st.be.flush();
    return out;
  }

  /** A host copy of the run: weights, and unless weightsOnly the optimizer and sampler state. */
  async checkpoint(preset: string, weightsOnly = false): Promise<Checkpoint> {
    const ckpt = await this.state.checkpoint(preset, weightsOnly);
    if (!weightsOnly) ckpt.samplerState = this.pretrain.samplerState;
    return ckpt;
  }

  /** Load a checkpoint's weights (and optimizer / sampler state when present) into this run. */
  load(ckpt: Checkpoint): void {
    this.state.load(ckpt);
    if (ckpt.samplerState) this.pretrain.samplerState = ckpt.samplerState;
  }

  dispose(): void {
    for (const s of Object.values(this.stages)) s?.dispose();
    this.state.dispose();
  }
}
