// Training progress lines: the total loss, then only the terms the loss has, in one order on both backends.
// A KL-only distillation of stories260K (the Lab's heal, `lab distill` without --ce) shows "kl", never "ce 0.0000";
// the WebGPU trainer's lines are checked end to end in distill-cli.test.ts.
import { expect, it } from 'vitest';
import { loadModel } from '../../src/io/load';
import { fileSource } from '../../node/files';
import { distillTrainer, lossTerms, lossText, stepLine, windowBatches, type StepInfo } from '../../src/passes/distill/index';
import { createTokenizer } from '../../src/model/tokenizer/index';
import { describeWithShared, readShared, sharedPath, STORIES } from '../fixtures';

const step = (parts: Record<string, number>, loss = 1.5): StepInfo => ({ step: 3, steps: 30, loss, parts, lr: 0.001, gradNorm: 0.5123 });

it('formats only the terms a loss has, in the order kl, ce, mse, whichever order a backend reports them', () => {
  expect(stepLine(step({ kl: 0.25 }, 0.25))).toBe('step  3/30 loss 0.2500 (kl 0.2500) lr 1.00e-3 |g| 0.512');
  // the WebGPU trainer reports ce before kl, and NaN for a term it did not compute
  expect(lossTerms({ ce: 2.5, kl: 0.25 })).toBe('kl 0.2500, ce 2.5000');
  expect(lossTerms({ ce: NaN, kl: 0.25 })).toBe('kl 0.2500');
  expect(lossTerms({ mse: 0.125, ce: 2.5, kl: 0.25 })).toBe('kl 0.2500, ce 2.5000, mse 0.1250');
  expect(lossText(step({}, 2))).toBe('loss 2.0000');
  expect(stepLine(step({ ce: 2 }, 2), 1234.4)).toBe('step  3/30 loss 2.0000 (ce 2.0000) lr 1.00e-3 |g| 0.512 1234 tok/s');
});

describeWithShared('progress of a real KL-only distillation step', [STORIES.gguf, STORIES.tinystories], () => {
  it('stories260K healing toward itself, CPU trainer: kl only', async () => {
    const model = await loadModel(new Map([['stories260K.gguf', fileSource(sharedPath(STORIES.gguf))]]));
    const tok = createTokenizer(model.tokenizer!);
    const tokens = tok.encode(new TextDecoder().decode(readShared(STORIES.tinystories)).slice(0, 4000));
    const config = { steps: 1, lr: 1e-3, seqLen: 16, batch: 1, seed: 0 };
    const trainer = distillTrainer(model, model, windowBatches(tokens, { ...config, bosId: model.config.bosTokenId }), config);
    const [s] = await trainer.run();
    expect(Object.keys(s.parts)).toEqual(['kl']);
    expect(stepLine(s)).toMatch(/^step 1\/1 loss \d\.\d{4} \(kl \d\.\d{4}\) lr 1\.00e-3 \|g\| \d+\.\d{3}$/);
    expect(stepLine(s)).not.toMatch(/ce /);
  });
});
