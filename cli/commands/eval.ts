import { existsSync, readFileSync } from 'node:fs';
import { dirSource } from '../../node/data-source';
import { modelFileSet } from '../../node/files';
import { DEFAULT_DATA_DIR } from '../../node/paths';
import { PythonSandbox } from '../../node/python-sandbox';
import { loadTaskLibrary, pickTasks } from '../../node/tasks';
import { evaluate } from '../../src/eval/evaluate';
import { perplexity } from '../../src/eval/perplexity';
import { sha256Hex } from '../../src/io/hash';
import { endProgress, num, parse, progressLine, report, UsageError, type Command } from '../command';
import { backendOf, openModel, openRuntime, tokenizerOf } from '../load';

export const evalCommand: Command = {
  usage: '<model> (--tasks a,b [--limit N] [--seed S] [--base <model>] [--data DIR] | --ppl <textfile> [--ctx 512] [--chunks N]) [--backend webgpu|cpu] [--json]',
  summary: 'benchmark tasks from static/tasks (a Result with metrics ± stderr, KLD vs --base, cost), or perplexity of a text file',
  async run(argv, signal) {
    const { values, positionals } = parse(argv, {
      tasks: { type: 'string' }, limit: { type: 'string' }, seed: { type: 'string' }, base: { type: 'string' },
      data: { type: 'string' }, 'kld-task': { type: 'string' }, 'kld-chunks': { type: 'string' },
      ppl: { type: 'string' }, ctx: { type: 'string' }, chunks: { type: 'string' }, backend: { type: 'string' },
    });
    if (!values.tasks && !values.ppl) throw new UsageError('give --tasks a,b (see static/tasks) or --ppl <textfile>');
    const backend = backendOf(values.backend);
    const progress = progressLine;
    const model = await openModel(positionals[0], signal);
    const tok = tokenizerOf(model);

    if (values.ppl) {
      // CRLF files (e.g. this WikiText copy) would otherwise tokenize differently from llama.cpp's LF text
      const tokens = tok.encode(readFileSync(values.ppl as string, 'utf8').replace(/\r\n/g, '\n'));
      const ctx = num(values.ctx, 'ctx', 512);
      const rt = await openRuntime(model, backend, ctx);
      const t0 = performance.now();
      const r = await perplexity(rt, tokens, {
        contextLength: ctx, bosId: model.config.bosTokenId, signal, onProgress: progress,
        maxChunks: values.chunks === undefined ? undefined : num(values.chunks, 'chunks', 0),
      });
      endProgress();
      rt.dispose();
      const seconds = (performance.now() - t0) / 1000;
      const result = { task: 'perplexity', file: values.ppl, backend, ...r, tokensPerSecond: (r.chunks * ctx) / seconds };
      return report(!!values.json, result, () =>
        `perplexity ${r.ppl.toFixed(4)} +/- ${r.stderr.toFixed(5)}  (${r.chunks} chunks of ${ctx}, ${r.tokensScored} tokens scored, ${backend}, ${seconds.toFixed(1)} s)`);
    }

    const dataDir = (values.data as string | undefined) ?? DEFAULT_DATA_DIR;
    if (!existsSync(dataDir)) throw new UsageError(`data folder ${dataDir} not found; pass --data DIR (the layout of ../shared/data)`);
    const library = loadTaskLibrary();
    const tasks = pickTasks(library, values.tasks as string);
    const rt = await openRuntime(model, backend);
    const files = modelFileSet(positionals[0]!);
    const [main] = [...files.values()].sort((a, b) => b.size - a.size);
    const base = values.base ? await openModel(values.base as string, signal) : undefined;
    const baseRt = base ? await openRuntime(base, backend) : undefined;
    const needsCode = tasks.some((t) => t.output_type === 'generate_until' && t.metrics.includes('pass@1'));
    const codeRunner = needsCode ? new PythonSandbox() : undefined;
    const result = await evaluate({
      codeRunner,
      model, runtime: rt, tokenizer: tok, tasks, data: dirSource(dataDir),
      limit: values.limit === undefined ? undefined : num(values.limit, 'limit', 0),
      seed: (values.seed as string | undefined) ?? '0',
      base: base && baseRt ? { runtime: baseRt, name: base.source.name, sha256: null } : undefined,
      kldTask: library.get((values['kld-task'] as string | undefined) ?? 'tinystories'),
      kldChunks: values['kld-chunks'] === undefined ? undefined : num(values['kld-chunks'], 'kld-chunks', 8),
      artifactSha256: await sha256Hex(main, signal),
      bytesOnDisk: [...files.values()].reduce((s, f) => s + f.size, 0),
      host: 'node',
      adapter: backend === 'webgpu' ? 'dawn' : null,
      peakHostBytes: () => process.resourceUsage().maxRSS * 1024,
      signal, onProgress: progress,
    });
    endProgress();
    rt.dispose();
    baseRt?.dispose();
    codeRunner?.close();
    report(!!values.json, result, () => [
      ...result.tasks.map((t) => `${t.task.padEnd(14)} n=${String(t.n).padEnd(5)} ` +
        Object.entries(t.metrics).map(([k, v]) => `${k} ${v.value.toFixed(4)} ± ${v.stderr.toFixed(4)}`).join('  ') +
        `  (${t.itemsPerSecond.toFixed(1)} items/s)`),
      ...(result.distribution ? [`vs ${result.distribution.base.name}: KLD ${result.distribution.kldMean.toFixed(5)} ± ${result.distribution.kldStderr.toFixed(5)} ` +
        `(p99 ${result.distribution.kldP99.toFixed(4)}, max ${result.distribution.kldMax.toFixed(4)}), top-1 ${(100 * result.distribution.top1).toFixed(2)}%`] : []),
      `cost: ${result.cost.bytesOnDisk.toLocaleString('en-US')} B on disk, ${result.cost.runtimeBytes.toLocaleString('en-US')} B of RAM at run time (weights as stored + KV cache + activations), ` +
        `prefill ${result.cost.prefillTokensPerSecond?.toFixed(0)} tok/s, decode ${result.cost.decodeTokensPerSecond?.toFixed(0)} tok/s (${backend})`,
    ].join('\n'));
  },
};
