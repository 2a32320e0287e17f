// Small random models for merge tests: the real Llama layout at toy sizes, seeded.
import type { ModelConfig } from '../../src/model/config';
import { expectedShapes, type Model } from '../../src/model/model';
import { f32Tensor, type Tensor } from '../../src/model/tensor';
import type { TokenizerSpec } from '../../src/model/tokenizer/spec';
import { seededRandom } from '../../src/runtime/sampling';

const CONFIG: ModelConfig = {
  architecture: 'llama', hiddenSize: 32, intermediateSize: 64, numLayers: 6, numHeads: 4, numKvHeads: 2, headDim: 8,
  vocabSize: 96, maxPositions: 64, rmsNormEps: 1e-5, ropeTheta: 10000, ropeStyle: 'interleaved', attentionBias: false,
  tieWordEmbeddings: false, bosTokenId: 1, eosTokenId: 2,
};

export const vocab = (n: number): Extract<TokenizerSpec, { kind: 'spm' }> => ({
  kind: 'spm', pieces: Array.from({ length: n }, (_, i) => (i < 3 ? ['<unk>', '<s>', '</s>'][i] : `\u2581t${i}`)),
  scores: new Array(n).fill(0), bosId: 1, eosId: 2, unkId: 0, addDummyPrefix: true, spaceSymbol: '\u2581',
});

export function tinyModel(seed: number, over: Partial<ModelConfig> = {}, name = `m${seed}`): Model {
  const config = { ...CONFIG, ...over };
  const random = seededRandom(seed);
  const tensors = new Map<string, Tensor>();
  for (const [n, shape] of expectedShapes(config)) {
    const v = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => random() - 0.5);
    tensors.set(n, f32Tensor(n, shape, v));
  }
  return { config, tensors, tokenizer: vocab(config.vocabSize), source: { format: 'test', name } };
}

