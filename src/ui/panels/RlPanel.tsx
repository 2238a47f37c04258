// Reasoning RL settings (R1-style GRPO on a toy task): the pipeline's stages, the reward, the
// GRPO objective and its variants. Generated from the `rl` section of the config schema; while
// rl.mode is "off" the rest folds away. Most GRPO settings are live.

import { panelFields } from '../../config';
import { FieldGrid } from './FieldInput';
import { Panel } from './Panel';

const RL_FIELDS = panelFields('rl');

export function RlPanel() {
  return (
    <Panel title="Reasoning RL (GRPO)" testId="panel-rl" accordion>
      <FieldGrid fields={RL_FIELDS} name="RL" />
    </Panel>
  );
}
