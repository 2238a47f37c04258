// What a finding is: one claim of the DeepSeek-V3 / R1 reports, the lab's experiment that tests
// it (presets, `--set` overrides, seeds), how to run it on a backend, and the rule — written as a
// sentence on the card and as a pure function of the result — that says whether the lab's
// figures reproduce the paper's.

import type { Backend } from '../engine/backend';

export type Verdict = 'reproduced' | 'not reproduced' | 'inconclusive';
export const VERDICTS: readonly Verdict[] = ['reproduced', 'not reproduced', 'inconclusive'];

/** One metric of one arm over the seeds: mean, sample standard deviation, and each seed's value. */
export interface Stat {
  mean: number;
  std: number;
  per_seed: number[];
}

/** An arm's metrics by name. */
export type ArmStats = Record<string, Stat>;

/** One line of a finding's chart: each seed's values at the same x; drawn as the mean with a min/max band. */
export interface Curve {
  label: string;
  x: number[];
  /** One row per seed, each as long as x. */
  per_seed: number[][];
}

export interface Chart {
  title: string;
  xLabel: string;
  curves: Curve[];
}

/** One arm of the experiment as a run of the lab: a preset and its overrides. */
export interface ExperimentArm {
  arm: string;
  preset: string;
  set: Record<string, string | number | boolean>;
}

/** What a run of a finding measured. */
export interface FindingResult {
  finding: string;
  seeds: number[];
  quick: boolean;
  /** Per arm, per metric: mean, std and per-seed values. */
  lab: Record<string, ArmStats>;
  charts: Chart[];
  /** What the run noticed beside the rule (where MXFP4 breaks, a failed arm, …). */
  notes: string[];
  seconds: number;
  adapter: string;
}

export interface Progress {
  /** Work done and in all, in the finding's own units (optimizer steps, mostly). */
  done: number;
  total: number;
  what: string;
}

export interface RunFindingOptions {
  seeds: number[];
  quick: boolean;
  onProgress?: (p: Progress) => void;
}

/** The sizes a finding runs at: seeds by default, and what the size means. */
export interface Size {
  seeds: number;
  about: string;
}

export interface Finding {
  /** Short name for links and --only (lowercase, no spaces). */
  name: string;
  title: string;
  /** The claim in one sentence. */
  claim: string;
  /** Where the paper says it: report, section, table or figure. */
  paper: string;
  /** The paper's figure, short (the README table's column). */
  paperFigure: string;
  /** The rule as a sentence; `rule` below is the same rule as code. */
  ruleText: string;
  sizes: { full: Size; quick: Size };
  /** The arms as lab runs (presets and overrides) at full or quick size; empty for a finding without training. */
  experiment(quick: boolean): ExperimentArm[];
  run(be: Backend, opts: RunFindingOptions): Promise<FindingResult>;
  rule(r: FindingResult): Verdict;
  /** The lab's figure, short (the README table's column): mean ± spread with the seeds. */
  labFigure(r: FindingResult): string;
  /** false for a finding that needs no GPU (a simulator); the runner then passes no backend. */
  gpu?: false;
  /** Why the lab's result may differ from the paper's (scale, task, steps), shown beside a verdict that is not "reproduced". */
  caveat: string;
}
