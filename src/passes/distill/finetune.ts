// Fine-tuning: plain next-token cross-entropy on a token stream, every weight trained. Deterministic for a seed.
import type { z } from 'zod';
import type { Model } from '../../model/model';
import { windowBatches } from './batches';
import { crossEntropyObjective } from './objective';
import { weightsOf } from './params';
import { fullTrainable } from './trainable';
import { TrainConfig, Trainer, type StepInfo } from './trainer';

export type FineTuneOptions = z.input<typeof TrainConfig> & {
  signal?: AbortSignal;
  onProgress?: (s: StepInfo) => void;
};

export async function fineTune(model: Model, tokens: Int32Array | readonly number[], opts: FineTuneOptions): Promise<Model> {
  const { signal, onProgress, ...rest } = opts;
  const config = TrainConfig.parse(rest);
  const data = windowBatches(tokens, { ...config, bosId: model.config.bosTokenId });
  const trainer = new Trainer(model, fullTrainable(weightsOf(model)), crossEntropyObjective(model.config.vocabSize), data, config);
  await trainer.run({ signal, onStep: onProgress });
  return trainer.toModel(`${model.source.name} fine-tuned`);
}
