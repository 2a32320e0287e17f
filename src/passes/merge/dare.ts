// DARE (Yu et al. 2023): drop each task-vector entry with probability 1 - density and rescale the kept ones
// by 1/density so the expected delta is preserved; then either TIES's sign vote (dare_ties) or a plain
// weighted sum (dare_linear). The drops are seeded per (tensor, model), so a merge is reproducible.
import { gtaMethod } from './gta';

export const dareTiesMethod = gtaMethod({
  id: 'dare_ties',
  summary: 'Random drop with 1/density rescale, then TIES sign election',
  reference: 'https://arxiv.org/abs/2311.03099',
  sparsification: 'random', consensus: 'sum', normalize: false, rescale: true,
});

export const dareLinearMethod = gtaMethod({
  id: 'dare_linear',
  summary: 'Random drop with 1/density rescale, then a weighted sum of task vectors',
  reference: 'https://arxiv.org/abs/2311.03099',
  sparsification: 'random', normalize: false, rescale: true,
});
