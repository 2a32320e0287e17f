// Task arithmetic (Ilharco et al. 2022): base + sum of weighted task vectors, no sparsification, no sign vote.
import { gtaMethod } from './gta';

export const taskArithmeticMethod = gtaMethod({
  id: 'task_arithmetic',
  summary: 'base + sum of weight * (model - base); normalize: true divides by the weight sum',
  reference: 'https://arxiv.org/abs/2212.04089',
  normalize: false, rescale: false,
});
