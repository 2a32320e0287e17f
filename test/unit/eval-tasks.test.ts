// Every task family on a small slice of real data, checked against log-likelihoods computed independently
// here: one plain full forward per (context + continuation) on the CPU reference, no prefix sharing.
import { expect, it, describe } from 'vitest';
import { dirSource } from '../../node/data-source';
import { loadTaskLibrary } from '../../node/tasks';
import { loadDocs } from '../../src/eval/data-formats';
import { encodePair, scoreRequests } from '../../src/eval/loglikelihood';
import { runTask, selectItems } from '../../src/eval/runner';
import { choicesOf, goldOf } from '../../src/eval/tasks/multiple-choice';
import { render } from '../../src/eval/template';
import type { MultipleChoiceTask, LoglikelihoodTask } from '../../src/eval/task-schema';
import { createTokenizer } from '../../src/model/tokenizer/index';
import type { Tokenizer } from '../../src/model/tokenizer/spec';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';
import { loadStoriesGguf } from '../stories';

const library = loadTaskLibrary();
const data = () => dirSource(sharedPath('data'));

/** The oracle: encode context and context+continuation, one full forward, sum the continuation's log-softmax. */
async function handLoglik(model: Awaited<ReturnType<typeof loadStoriesGguf>>, tok: Tokenizer, context: string, continuation: string) {
  const ctxTrim = context.trimEnd();
  const cont = context.slice(ctxTrim.length) + continuation;
  const whole = tok.encode(ctxTrim + cont);
  const start = tok.encode(ctxTrim).length;
  const keep = whole.slice(Math.max(0, whole.length - model.config.maxPositions));
  const s = start - (whole.length - keep.length);
  const logits = await new CpuRuntime(model).forward(keep.slice(0, -1));
  let lp = 0;
  for (let i = s; i < keep.length; i++) {
    const row = logits.subarray((i - 1) * 512, i * 512);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
    lp += row[keep[i]] - lse;
  }
  return lp;
}

describe('task library', () => {
  it('every static/tasks/*.json validates and names a known output type', () => {
    expect([...library.keys()].sort()).toEqual(
      ['arc_challenge', 'arc_easy', 'boolq', 'hellaswag', 'humaneval', 'humaneval_ll', 'lambada', 'lambada_gen', 'mmlu', 'piqa', 'tinystories', 'wikitext2'],
    );
  });
});

describeWithShared('task scoring on real slices vs hand-computed log-likelihoods', [STORIES.gguf, 'data/arc_easy', 'data/hellaswag', 'data/mmlu', 'data/piqa', 'data/boolq', 'data/arc_challenge', 'data/lambada'], () => {
  for (const id of ['hellaswag', 'arc_easy', 'arc_challenge', 'piqa', 'boolq', 'mmlu']) {
    it(`${id}: per-choice log-likelihoods and acc/acc_norm agree with the oracle`, async () => {
      const model = await loadStoriesGguf();
      const tok = createTokenizer(model.tokenizer!);
      const task = library.get(id) as MultipleChoiceTask;
      const docs = await loadDocs(data(), task.data);
      const items = await selectItems(task, docs.length, 3, 'test');
      const result = await runTask(new CpuRuntime(model), tok, task, { data: data(), limit: 3, seed: 'test' });
      let acc = 0, accNorm = 0;
      for (const index of items) {
        const doc = docs[index];
        const choices = choicesOf(task, doc);
        const gold = goldOf(task, doc, choices.length);
        // few-shot prompts come from the runner; for 0-shot tasks the context is the template alone
        if (task.num_fewshot > 0) continue;
        const context = render(task.doc_to_text, doc);
        const ll = await Promise.all(choices.map((c) => handLoglik(model, tok, context, task.target_delimiter + c)));
        const fast = await scoreRequests(new CpuRuntime(model), tok, choices.map((c) => ({ context, continuation: task.target_delimiter + c })));
        for (let i = 0; i < choices.length; i++) expect(fast[i].logprob).toBeCloseTo(ll[i], 4);
        const best = (f: (i: number) => number) => choices.reduce((b, _, i) => (f(i) > f(b) ? i : b), 0);
        acc += best((i) => ll[i]) === gold ? 1 : 0;
        accNorm += best((i) => ll[i] / choices[i].length) === gold ? 1 : 0;
      }
      expect(result.n).toBe(3);
      if (task.num_fewshot === 0) {
        expect(result.metrics.acc.value).toBeCloseTo(acc / 3, 10);
        if (result.metrics.acc_norm) expect(result.metrics.acc_norm.value).toBeCloseTo(accNorm / 3, 10);
      }
      console.log(`${id} (3 items, stories260K): ${Object.entries(result.metrics).map(([k, v]) => `${k} ${v.value.toFixed(3)} ± ${v.stderr.toFixed(3)}`).join(', ')}`);
    });
  }

  it('mmlu: 5-shot prompts come from the same subject and fit the window by dropping tokens on the left', async () => {
    const model = await loadStoriesGguf();
    const tok = createTokenizer(model.tokenizer!);
    const task = library.get('mmlu') as MultipleChoiceTask;
    const docs = await loadDocs(data(), task.data);
    expect(docs.length).toBe(57 * 28);
    const doc = docs[100];
    const pair = encodePair(tok, { context: 'x '.repeat(2000) + render(task.doc_to_text, doc), continuation: ' A' }, 512);
    expect(pair.tokens.length).toBe(512);
    expect(pair.start).toBeGreaterThan(500);
    expect(tok.decode(pair.tokens.slice(pair.start))).toMatch(/A$/);
  });

  it('acc and acc_norm differ when choice lengths differ', async () => {
    const model = await loadStoriesGguf();
    const tok = createTokenizer(model.tokenizer!);
    // a short likely ending vs a long one: the long one loses on total log-likelihood, wins per character
    const context = 'Once upon a time, there was a little girl named Lily. She loved to';
    const choices = [' eat', ' play with her toys. One day, she saw a big, red ball.'];
    const ll = await scoreRequests(new CpuRuntime(model), tok, choices.map((c) => ({ context, continuation: c })));
    const accPick = ll[0].logprob > ll[1].logprob ? 0 : 1;
    const normPick = ll[0].logprob / choices[0].length > ll[1].logprob / choices[1].length ? 0 : 1;
    expect(accPick).toBe(0);
    expect(normPick).toBe(1);
  });

  it('lambada: greedy accuracy and perplexity of the target word match the oracle', async () => {
    const model = await loadStoriesGguf();
    const tok = createTokenizer(model.tokenizer!);
    const task = library.get('lambada') as LoglikelihoodTask;
    const docs = await loadDocs(data(), task.data);
    const items = await selectItems(task, docs.length, 4, 'test');
    const r = await runTask(new CpuRuntime(model), tok, task, { data: data(), limit: 4, seed: 'test' });
    const nll = await Promise.all(items.map(async (i) => -(await handLoglik(model, tok, String(docs[i].context), ' ' + String(docs[i].continuation)))));
    const ppl = Math.exp(nll.reduce((a, b) => a + b, 0) / nll.length);
    expect(r.metrics.perplexity.value).toBeCloseTo(ppl, 3);
    expect(r.metrics.acc.value).toBeGreaterThanOrEqual(0);
    console.log(`lambada (4 items): acc ${r.metrics.acc.value}, target ppl ${r.metrics.perplexity.value.toFixed(1)}`);
  });

  it('lambada_gen: generate_until cuts at stop strings and scores exact match', async () => {
    const model = await loadStoriesGguf();
    const tok = createTokenizer(model.tokenizer!);
    const task = library.get('lambada_gen')!;
    const r = await runTask(new CpuRuntime(model), tok, task, { data: data(), limit: 3, seed: 'test' });
    expect(r.n).toBe(3);
    expect(r.metrics.exact_match.value).toBeGreaterThanOrEqual(0);
  });

  it('tinystories: rolling perplexity through the task runner equals the direct protocol', async () => {
    const model = await loadStoriesGguf();
    const tok = createTokenizer(model.tokenizer!);
    const r = await runTask(new CpuRuntime(model, { maxPositions: 512 }), tok, library.get('tinystories')!, { data: data(), limit: 2 });
    expect(r.n).toBe(2);
    expect(r.metrics.perplexity.value).toBeGreaterThan(2);
    expect(r.metrics.perplexity.value).toBeLessThan(6);
  });

  it('bad data gets a clear error', async () => {
    const src = { name: 'mem', readText: async () => 'a\nb\nc\n', list: async () => [] };
    await expect(loadDocs(src, { path: 'h.txt', format: 'hellaswag_txt' })).rejects.toThrow(/not a whole number of 6-line HellaSwag tasks/);
    await expect(loadDocs({ ...src, readText: async () => '{"a":1}\n{oops' }, { path: 'x.jsonl', format: 'jsonl' })).rejects.toThrow(/x\.jsonl:2: not a JSON line/);
    expect(() => render('{{missing}}', {})).toThrow(/template field "missing" is missing/);
  });
});
