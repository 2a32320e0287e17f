import { readFileSync } from 'node:fs';
import { perplexity } from '../../src/eval/perplexity';
import { num, parse, report, UsageError, type Command } from '../command';
import { backendOf, openModel, openRuntime, tokenizerOf } from '../load';

export const evalCommand: Command = {
  usage: '<model> --ppl <textfile> [--ctx 512] [--chunks N] [--backend webgpu|cpu] [--json]',
  summary: "perplexity with llama.cpp's protocol (BOS per chunk, second half of each chunk scored)",
  async run(argv, signal) {
    const { values, positionals } = parse(argv, {
      ppl: { type: 'string' },
      ctx: { type: 'string' },
      chunks: { type: 'string' },
      backend: { type: 'string' },
    });
    if (!values.ppl) throw new UsageError('--ppl <textfile> is required');
    const model = await openModel(positionals[0], signal);
    const tok = tokenizerOf(model);
    // CRLF files (e.g. this WikiText copy) would otherwise tokenize differently from llama.cpp's LF text
    const text = readFileSync(values.ppl as string, 'utf8').replace(/\r\n/g, '\n');
    const tokens = tok.encode(text);
    const ctx = num(values.ctx, 'ctx', 512);
    const backend = backendOf(values.backend);
    const rt = await openRuntime(model, backend, ctx);
    const t0 = performance.now();
    const r = await perplexity(rt, tokens, {
      contextLength: ctx,
      maxChunks: values.chunks === undefined ? undefined : num(values.chunks, 'chunks', 0),
      bosId: model.config.bosTokenId,
      signal,
      onProgress: ({ done, total, ppl }) => process.stderr.write(`\r[${done}/${total}] ppl ${ppl.toFixed(4)}`),
    });
    process.stderr.write('\n');
    rt.dispose();
    const seconds = (performance.now() - t0) / 1000;
    const result = { task: 'perplexity', file: values.ppl, backend, ...r, tokensPerSecond: (r.chunks * ctx) / seconds };
    report(!!values.json, result, () =>
      `perplexity ${r.ppl.toFixed(4)} +/- ${r.stderr.toFixed(5)}  (${r.chunks} chunks of ${ctx}, ${r.tokensScored} tokens scored, ${backend}, ${seconds.toFixed(1)} s)`);
  },
};
