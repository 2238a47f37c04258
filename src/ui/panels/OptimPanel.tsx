// Optimizer, schedule and training-loop settings. Most are live: they apply at the next step.

import { FieldGrid } from './FieldInput';
import { Panel, splitPanel } from './Panel';

/** The optimizer and schedule, then the training loop (the rest of the panel). */
const [OPTIM_FIELDS, TRAIN_FIELDS] = splitPanel('optim', 'optim');

export function OptimPanel() {
  return (
    <Panel title="Optimizer and schedule" testId="panel-optim" accordion>
      <FieldGrid fields={OPTIM_FIELDS} name="optimizer" />
      <h3>Training loop</h3>
      <FieldGrid fields={TRAIN_FIELDS} name="training-loop" />
    </Panel>
  );
}
