// Fine-tuning: plain next-token cross-entropy on a token stream, every weight trained. Deterministic for a
// seed. A compressed model stays compressed: pruned zeros stay zero and non-f32 tensors train f32 masters
// straight-through their own dtype (as heal does), so the result has the input's formats and size.
import type { z } from 'zod';
import type { Model } from '../../model/model';
import { windowBatches } from './batches';
import { studentTrainable } from './distill';
import { crossEntropyObjective } from './objective';
import { TrainConfig, Trainer, type StepInfo } from './trainer';

export type FineTuneOptions = z.input<typeof TrainConfig> & {
  signal?: AbortSignal;
  onProgress?: (s: StepInfo) => void;
};

export async function fineTune(model: Model, tokens: Int32Array | readonly number[], opts: FineTuneOptions): Promise<Model> {
  const { signal, onProgress, ...rest } = opts;
  const config = TrainConfig.parse(rest);
  const data = windowBatches(tokens, { ...config, bosId: model.config.bosTokenId });
  const trainable = studentTrainable(model, { keepSparsity: true, seed: config.seed });
  const trainer = new Trainer(model, trainable, crossEntropyObjective(model.config.vocabSize), data, config);
  await trainer.run({ signal, onStep: onProgress });
  return trainer.toModel(`${model.source.name} fine-tuned`);
}
