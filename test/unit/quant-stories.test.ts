// The issue's table: stories260K on TinyStories valid_a, bytes and perplexity (llama.cpp protocol) for each
// quantization method, against the goal line ppl <= F32 + (Q4_0 - F32) / 2. "Beats" is judged on paired
// per-token differences over the same scored tokens: of NLL (what ppl averages) and of KL divergence from the
// F32 model (llama-perplexity --kl-divergence), whose paired stderr is several times tighter still, because
// it does not depend on which token happened to come next.
import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { perplexity } from '../../src/eval/perplexity';
import { mean, stderrOfMean } from '../../src/eval/stats';
import { paired, scoreTokens } from '../per-token';
import { modelBytes, type Model } from '../../src/model/model';
import { createTokenizer } from '../../src/model/tokenizer/index';
import { calibrationFromTokens } from '../../src/passes/calibration';
import { passes } from '../../src/passes/index';
import type { Calibration } from '../../src/passes/pass';
import { applyAwqScales, searchAwqScales } from '../../src/passes/quant/awq';
import { castTensor, linearStats, quantPlan, TargetParams } from '../../src/passes/quant/common';
import { measureSensitivity, probeDistribution } from '../../src/passes/quant/sensitivity';
import type { PlanRow } from '../../src/passes/quant/mixed-precision';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';
import { loadStoriesGguf, maxAbsDiff } from '../stories';

const CTX = 512, CHUNKS = 8; // 8 x 255 scored tokens: each row costs ~4 s on the CPU reference
const LLAMA_Q4_0_FILE_BYTES = 276_992; // llama.cpp's Q4_0 file of stories260K, header and vocabulary included

interface Row { label: string; tensors: string; bytes: number; ppl: number; stderr: number; nll: Float64Array; kld: Float64Array }

const fmt = (d: { mean: number; se: number }) => `${d.mean.toFixed(4)} +/- ${d.se.toFixed(4)}`;

describeWithShared('quantizing stories260K (TinyStories valid_a)', [STORIES.gguf, STORIES.tinystories], () => {
  let base: Model, tokens: number[], calibration: Calibration;
  const rows = new Map<string, Row>();

  let baseLogprobs: Float64Array[] | undefined;
  /**
   * Per-token NLL with llama.cpp's protocol (BOS first, second half of each chunk scored), as perplexity()
   * computes it, and per-token KL(F32 || model); the first model evaluated is the F32 base.
   */
  function evaluate(label: string, tensors: string, model: Model): Row {
    const scores = scoreTokens(model, tokens, CTX, CHUNKS, baseLogprobs);
    baseLogprobs ??= scores.logprobs;
    const row = { label, tensors, bytes: modelBytes(model), ppl: scores.ppl, stderr: scores.stderr, nll: scores.nll, kld: scores.kld };
    rows.set(label, row);
    return row;
  }

  beforeAll(async () => {
    base = await loadStoriesGguf();
    tokens = createTokenizer(base.tokenizer!).encode(readFileSync(sharedPath(STORIES.tinystories), 'utf8'));
    // evaluation reads the first 8 x 512 tokens; calibration comes from the second half of the file, seeded
    const half = Math.floor(tokens.length / 2);
    calibration = calibrationFromTokens(tokens.slice(half), 32, 128, 1, base.config.bosTokenId, `valid_a.txt tokens ${half}+`);
  });

  it('our per-token evaluation is perplexity() (llama.cpp protocol) on the same chunks', async () => {
    const rt = new CpuRuntime(base, { maxPositions: CTX });
    const r = await perplexity(rt, tokens, { contextLength: CTX, maxChunks: 2, bosId: base.config.bosTokenId });
    const mine = evaluate('F32', 'all f32', base); // the table's first row; its first 2 x 255 tokens are r's
    expect(mean(mine.nll.subarray(0, r.tokensScored))).toBeCloseTo(r.nll, 10);
    expect(mean(mine.kld)).toBe(0);
  });

  it('AWQ folds its scales exactly: the float model computes the same logits before quantization', async () => {
    const stats = await linearStats(base, calibration, {});
    const plan = quantPlan(base, TargetParams.parse({ dtype: 'int4_g32', lmHead: 'int4_g32' }));
    const scalings = searchAwqScales(base, stats, plan);
    // every kind of fold is exercised with a real (alpha > 0) scale: norms, v_proj rows under GQA, the final norm
    for (const kind of ['attention input', 'o_proj input', 'mlp input', 'output']) expect(scalings.some((s) => s.site.includes(kind) && s.alpha > 0)).toBe(true);
    for (const s of scalings) expect(s.loss).toBeLessThanOrEqual(s.rtnLoss);
    const scaled = applyAwqScales(base, scalings);
    const prompt = tokens.slice(0, 64);
    prompt[0] = base.config.bosTokenId!;
    const a = new CpuRuntime(base).forwardSync(prompt), b = new CpuRuntime(scaled).forwardSync(prompt);
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    expect(scaled.tensors.get('model.layers.0.self_attn.q_proj.weight')!.data).not.toEqual(base.tensors.get('model.layers.0.self_attn.q_proj.weight')!.data);
  });

  it('sensitivity: KLD of quantizing one tensor grows as its dtype narrows, and is zero for a lossless cast', async () => {
    const probe = await probeDistribution(base, { sequences: calibration.sequences.slice(0, 2), description: 'probe' }, {});
    const [int3, int8, same] = await measureSensitivity(base, [
      { tensor: 'lm_head.weight', dtype: 'int3_g32' }, { tensor: 'lm_head.weight', dtype: 'int8_g64' }, { tensor: 'lm_head.weight', dtype: 'f32' },
    ], probe, (t, d) => castTensor(t, d));
    expect(same.kld).toBe(0);
    expect(int8.kld).toBeGreaterThan(0);
    expect(int3.kld).toBeGreaterThan(20 * int8.kld);
    expect(int3.bytes).toBe((512 * 64 / 32) * 16);
  });

  it('a pass reports progress, honours cancellation and leaves its input alone', async () => {
    const before = new Map([...base.tensors].map(([n, t]) => [n, t.data.slice()]));
    const stages = new Set<string>();
    await passes.gptq.apply(base, passes.gptq.params.parse({ dtype: 'int4_g32' }), { calibration, onProgress: (p) => stages.add(p.stage) });
    expect([...stages]).toContain('gptq');
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(passes.rtn.apply(base, passes.rtn.params.parse({}), { signal: ac.signal })).rejects.toThrow('stop');
    for (const [n, t] of base.tensors) expect(t.data).toEqual(before.get(n));
  });

  it('the table: bytes and perplexity per method, the goal line, GPTQ and AWQ beating RTN', async () => {
    const reports: Record<string, unknown>[] = [];
    const run = async (label: string, tensors: string, id: keyof typeof passes, params: Record<string, unknown>) =>
      evaluate(label, tensors, await passes[id].apply(base, passes[id].params.parse(params) as never, { calibration, report: (e) => reports.push(e) }));
    // the int rows: every block linear and the embedding at int{b}_g32, lm_head at int8_g64 (per byte the most
    // sensitive tensor); down_proj (172 inputs: no block fits) is f16 in every row, as in llama.cpp's file
    const intRow = (b: number) => ({ dtype: `int${b}_g32`, embedding: `int${b}_g32`, lmHead: 'int8_g64' });
    const f32 = rows.get('F32') ?? evaluate('F32', 'all f32', base);
    await run('RTN q8_0', 'all q8_0 (down f16)', 'rtn', { dtype: 'q8_0', embedding: 'q8_0', lmHead: 'q8_0' });
    await run('RTN int8', 'all int8_g64 (down f16)', 'rtn', { dtype: 'int8_g64', embedding: 'int8_g64', lmHead: 'int8_g64' });
    // llama.cpp's Q4_0 mix: token_embd q4_0, output q8_0 (its Q6_K needs 256-wide rows), ffn_down f16
    const q40 = await run('Q4_0 (llama.cpp RTN)', 'q4_0, emb q4_0, lm_head q8_0', 'rtn', { dtype: 'q4_0', embedding: 'q4_0', lmHead: 'q8_0' });
    for (const m of ['rtn', 'hqq', 'gptq', 'awq'] as const) await run(`${m.toUpperCase()} int4`, 'int4_g32, lm_head int8_g64', m, intRow(4));
    for (const m of ['rtn', 'hqq', 'gptq', 'awq'] as const) await run(`${m.toUpperCase()} int3`, 'int3_g32, lm_head int8_g64', m, intRow(3));
    // mixed precision at the bytes of llama.cpp's Q4_0 tensors (its file adds a 14 KB header and vocabulary)
    const budget = q40.bytes;
    const mixed = await run('Mixed (GPTQ)', '', 'mixed', { budget, method: 'gptq' });
    const plan = (reports.find((r) => r.pass === 'mixed')!.plan as PlanRow[]);
    mixed.tensors = [...new Set(plan.map((r) => r.dtype))].map((d) => `${plan.filter((r) => r.dtype === d).length} ${d}`).join(', ');

    const goal = f32.ppl + (q40.ppl - f32.ppl) / 2;
    const lines = [
      `stories260K, TinyStories valid_a: ${CHUNKS} chunks x ${CTX} tokens (${f32.nll.length} scored); calibration ${calibration.description}`,
      `${'method'.padEnd(20)} ${'tensors'.padEnd(48)} ${'bytes'.padStart(9)}  ${'ppl +/- stderr'.padEnd(17)}  ${'dNLL vs F32 (paired)'.padEnd(20)}  ${'KLD vs F32'.padEnd(17)}  goal`,
      ...[...rows.values()].map((r) => {
        const goalMet = r.bytes <= LLAMA_Q4_0_FILE_BYTES ? (r.ppl <= goal ? 'yes' : 'no') : '-';
        return `${r.label.padEnd(20)} ${r.tensors.padEnd(48)} ${String(r.bytes).padStart(9)}  ${`${r.ppl.toFixed(4)} +/- ${r.stderr.toFixed(4)}`.padEnd(17)}  ${fmt(paired(f32, r)).padEnd(20)}  ${`${mean(r.kld).toFixed(4)} +/- ${stderrOfMean(r.kld).toFixed(4)}`.padEnd(17)}  ${goalMet}`;
      }),
      `goal line: ppl <= F32 + (Q4_0 - F32)/2 = ${f32.ppl.toFixed(4)} + (${q40.ppl.toFixed(4)} - ${f32.ppl.toFixed(4)})/2 = ${goal.toFixed(4)}, at <= ${LLAMA_Q4_0_FILE_BYTES} B (llama.cpp's Q4_0 file; its tensors: ${q40.bytes} B)`,
      ...['HQQ int4', 'GPTQ int4', 'AWQ int4', 'HQQ int3', 'GPTQ int3', 'AWQ int3'].map((l) => {
        const r = rows.get(l)!, rtn = rows.get(`RTN ${l.split(' ')[1]}`)!;
        const n = paired(rtn, r), k = paired(rtn, r, 'kld');
        return `${l} - RTN, paired per token: dNLL ${fmt(n)} (${(n.mean / n.se).toFixed(1)} se), dKLD ${fmt(k)} (${(k.mean / k.se).toFixed(1)} se)`;
      }),
    ];
    const short = (n: string) => n.replace(/^model\.layers\.(\d+)\.(self_attn|mlp)\./, 'L$1.').replace(/^model\./, '').replace(/\.weight$/, '');
    lines.push(`mixed plan (tensor=dtype, predicted KLD), ${plan.reduce((s, r) => s + r.bytes, 0)} B of quantizable tensors:`);
    for (let i = 0; i < plan.length; i += 7) lines.push('  ' + plan.slice(i, i + 7).map((r) => `${short(r.tensor)}=${r.dtype} (${r.cost.toExponential(1)})`).join('  '));
    console.log(lines.join('\n'));

    expect(q40.bytes).toBe(262_624); // llama.cpp's Q4_0 tensor bytes for this model, reproduced
    expect(rows.get('RTN q8_0')!.ppl - f32.ppl).toBeLessThan(f32.stderr); // at Q8_0 size nothing measurable is lost
    expect(rows.get('RTN int8')!.ppl - f32.ppl).toBeLessThan(f32.stderr);
    // GPTQ and AWQ beat RTN at the same bits: on KLD at 4 and 3 bits, and on NLL (ppl) itself at 3 bits, each
    // by more than two paired stderrs; at 4 bits the NLL gain is within the noise of 2040 tokens (printed above)
    for (const bits of ['int4', 'int3']) {
      for (const m of ['GPTQ', 'AWQ']) {
        const a = rows.get(`RTN ${bits}`)!, b = rows.get(`${m} ${bits}`)!;
        const k = paired(a, b, 'kld');
        expect(k.mean + 2 * k.se, `${m} ${bits} vs RTN: KLD`).toBeLessThan(0);
        const n = paired(a, b);
        if (bits === 'int3') expect(n.mean + 2 * n.se, `${m} ${bits} vs RTN: NLL`).toBeLessThan(0);
      }
    }
    expect(mixed.bytes).toBeLessThanOrEqual(budget);
    for (const l of ['Mixed (GPTQ)', 'GPTQ int4', 'AWQ int4']) {
      const r = rows.get(l)!;
      expect(r.bytes, l).toBeLessThanOrEqual(LLAMA_Q4_0_FILE_BYTES);
      expect(r.ppl, l).toBeLessThanOrEqual(goal);
    }
  });
});
