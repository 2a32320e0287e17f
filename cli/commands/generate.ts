import { defaultStopTokens, generate } from '../../src/runtime/generate';
import { num, parse, report, type Command } from '../command';
import { backendOf, openModel, openRuntime, tokenizerOf } from '../load';

export const generateCommand: Command = {
  usage: '<model> --prompt TEXT [-n 64] [--temperature 0] [--top-k K] [--top-p P] [--seed S] [--backend webgpu|cpu] [--json]',
  summary: 'continue a prompt (greedy by default), streaming tokens, then tokens/s for prefill and decode',
  async run(argv, signal) {
    const { values, positionals } = parse(argv, {
      prompt: { type: 'string', short: 'p', default: '' },
      n: { type: 'string', short: 'n' },
      temperature: { type: 'string' },
      'top-k': { type: 'string' },
      'top-p': { type: 'string' },
      seed: { type: 'string' },
      backend: { type: 'string' },
    });
    const model = await openModel(positionals[0], signal);
    const tok = tokenizerOf(model);
    const backend = backendOf(values.backend);
    const rt = await openRuntime(model, backend);
    const prompt = tok.encode(values.prompt as string);
    if (!values.json) process.stdout.write(values.prompt as string);
    const out = await generate(rt, prompt, {
      maxNewTokens: num(values.n, 'n', 64),
      temperature: num(values.temperature, 'temperature', 0),
      topK: num(values['top-k'], 'top-k', 0),
      topP: num(values['top-p'], 'top-p', 1),
      seed: num(values.seed, 'seed', 0),
      stopTokens: defaultStopTokens(tok),
      signal,
      onToken: values.json ? undefined : (id) => process.stdout.write(tok.piece(id)),
    });
    rt.dispose();
    const text = tok.decode([...prompt, ...out.tokens]);
    const result = { text, promptTokens: prompt, backend, ...out };
    if (!values.json) process.stdout.write('\n');
    report(!!values.json, result, () =>
      `-- ${backend}: prefill ${prompt.length} tok at ${out.prefillTokensPerSecond.toFixed(1)} tok/s, ` +
      `decode ${out.tokens.length} tok at ${out.decodeTokensPerSecond.toFixed(1)} tok/s`);
  },
};
