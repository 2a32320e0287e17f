// TIES (Yadav et al. 2023): trim each task vector to its largest-|delta| `density` fraction, elect each
// entry's sign by the summed weighted deltas, and average only the entries that agree with it.
import { gtaMethod } from './gta';

export const tiesMethod = gtaMethod({
  id: 'ties',
  summary: 'Trim to density by magnitude, elect signs, merge only agreeing entries (normalized)',
  reference: 'https://arxiv.org/abs/2306.01708',
  sparsification: 'magnitude', consensus: 'sum', normalize: true, rescale: false,
});
