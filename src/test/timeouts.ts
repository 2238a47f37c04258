// The suite's one timeout for slow work (learning runs, CLI subprocesses, GPU checks on a
// software adapter). Every such test is bounded by its steps, never by wall time; this only
// catches a hang. It is sized for a 2-core machine at load average 8 — e.g. two `npm test` runs
// side by side — where a case that takes 90 s on an idle machine takes about 6 minutes.
export const SLOW_MS = 15 * 60_000;
