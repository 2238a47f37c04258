// The last levels of a workgroup tree reduction, for adapters without `subgroups` (appended to a
// kernel's module by its host, see reduce.ts / softmax.ts). The kernel calls these only when
// its shuffle width is above 1, which this path never is (it passes subgroup size 1): they
// exist so one kernel body serves both paths.

fn lanes_down(v: f32, d: u32) -> f32 {
  return v;
}

fn lanes_first(v: f32) -> f32 {
  return v;
}

fn lanes_sum(v: f32, lanes: u32) -> f32 {
  return v;
}
