// Optimizer, schedule and training-loop settings. Most are live: they apply at the next step.

import { FIELDS } from '../../config';
import { FieldGrid } from './FieldInput';
import { Panel, sectionFields } from './Panel';

const OPTIM_FIELDS = sectionFields(FIELDS, 'optim');
const TRAIN_FIELDS = sectionFields(FIELDS, 'train');

export function OptimPanel() {
  return (
    <Panel title="Optimizer and schedule" testId="panel-optim">
      <FieldGrid fields={OPTIM_FIELDS} />
      <h3>Training loop</h3>
      <FieldGrid fields={TRAIN_FIELDS} />
    </Panel>
  );
}
