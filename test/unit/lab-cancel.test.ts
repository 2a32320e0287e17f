// Cancel during a CPU recipe run: the page's Cancel is a message (comlink) that aborts the worker's signal, so
// it only lands when the pass gives the event loop a turn. Here the message travels on a MessageChannel as in
// the worker; the run must stop between tensors (fewer tensors done than planned), reject with the abort
// reason, and leave the Workspace as it was: the next run gives the same artifact as a fresh Workspace.
import { afterAll, expect, it } from 'vitest';
import { dirSource } from '../../node/data-source';
import { fileSource } from '../../node/files';
import type { Progress } from '../../src/lab/compress';
import { Workspace } from '../../src/lab/workspace';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';

const RECIPES = {
  gptq: { schema: 'lab.recipe/1', name: 'gptq-all', passes: [{ pass: 'gptq', params: { dtype: 'int4_g32', embedding: 'int4_g32', lmHead: 'int8_g64' } }] },
  sparsegpt: { schema: 'lab.recipe/1', name: 'sparsegpt-all', passes: [{ pass: 'sparsegpt', params: { sparsity: 0.5 } }] },
};

describeWithShared('cancel a CPU recipe run between tensors', [STORIES.gguf, 'data/tinystories'], () => {
  const data = dirSource(sharedPath('data'));
  const files = () => new Map([['stories260K.gguf', fileSource(sharedPath(STORIES.gguf))]]);
  const open: Workspace[] = [];
  const workspace = async () => {
    const ws = new Workspace();
    open.push(ws);
    await ws.load(files(), {});
    return ws;
  };
  afterAll(() => open.forEach((ws) => ws.dispose()));

  for (const [method, recipe] of Object.entries(RECIPES)) {
    it(`${method}: a Cancel message after the first tensor stops the pass; the Workspace runs the recipe again as a fresh one does`, async () => {
      const ws = await workspace();
      // what the run does uncancelled: how many tensors the pass goes through
      const full: Progress[] = [];
      const first = await ws.compress(recipe, data, { onProgress: (p) => full.push(p) });
      const tensorsOf = (ps: Progress[]) => ps.filter((p) => p.stage.includes(`${method}: ${method}`));
      const planned = tensorsOf(full).at(-1)!.total;
      expect(planned).toBeGreaterThan(10);
      const firstSha = ws.artifact('compressed').sha256;

      const ac = new AbortController();
      const ch = new MessageChannel();
      ch.port2.onmessage = () => ac.abort(new DOMException('cancelled by the page', 'AbortError'));
      const seen: Progress[] = [];
      try {
        const run = ws.compress(recipe, data, {
          signal: ac.signal,
          onProgress: (p) => {
            seen.push(p);
            if (tensorsOf(seen).length === 1) ch.port1.postMessage('cancel');
          },
        });
        await expect(run).rejects.toThrow('cancelled by the page');
      } finally {
        ch.port1.close();
        ch.port2.close();
      }
      const done = tensorsOf(seen).length;
      expect(done).toBeGreaterThanOrEqual(1);
      expect(done).toBeLessThan(planned);
      // the last good compressed model is still there, untouched
      expect(ws.artifact('compressed').sha256).toBe(firstSha);

      const again = await ws.compress(recipe, data, {});
      const fresh = await workspace();
      const reference = await fresh.compress(recipe, data, {});
      const facts = (s: typeof first) => ({ recipeHash: s.recipeHash, bytes: s.bytes, dtypes: s.dtypes });
      expect(facts(again)).toEqual(facts(reference));
      expect(facts(again)).toEqual(facts(first));
      expect(ws.artifact('compressed').sha256).toBe(fresh.artifact('compressed').sha256);
      expect(ws.artifact('compressed').sha256).toBe(firstSha);
    });
  }
});

// Inside one tensor: GPTQ and SparseGPT put a cancel point after each lazy batch of columns (reported as
// "columns of <tensor>"), AWQ after each alpha of its grid. Aborting at the first of those must stop the run
// there: the tensor never completes (no further tensor is reported done), and the run rejects with the reason.
const INSIDE = {
  gptq: { recipe: { schema: 'lab.recipe/1', name: 'gptq-16', passes: [{ pass: 'gptq', params: { dtype: 'int4_g32', blockSize: 16 } }] }, inner: 'columns of', outer: 'gptq: gptq' },
  sparsegpt: { recipe: { schema: 'lab.recipe/1', name: 'sparsegpt-16', passes: [{ pass: 'sparsegpt', params: { sparsity: 0.5, blockSize: 16 } }] }, inner: 'columns of', outer: 'sparsegpt: sparsegpt' },
  awq: { recipe: { schema: 'lab.recipe/1', name: 'awq', passes: [{ pass: 'awq', params: { dtype: 'int4_g32' } }] }, inner: 'awq alpha grid', outer: 'awq: awq search' },
};

describeWithShared('cancel inside one tensor', [STORIES.gguf, 'data/tinystories'], () => {
  const data = dirSource(sharedPath('data'));
  for (const [method, { recipe, inner, outer }] of Object.entries(INSIDE)) {
    it(`${method}: an abort at the first cancel point inside a tensor rejects before that tensor finishes`, async () => {
      const ws = new Workspace();
      try {
        await ws.load(new Map([['stories260K.gguf', fileSource(sharedPath(STORIES.gguf))]]), {});
        const ac = new AbortController();
        const seen: Progress[] = [];
        let outerAtAbort = -1;
        const count = (s: string) => seen.filter((p) => p.stage.includes(s)).length;
        const run = ws.compress(recipe, data, {
          signal: ac.signal,
          onProgress: (p) => {
            seen.push(p);
            if (p.stage.includes(inner) && !ac.signal.aborted) {
              outerAtAbort = count(outer);
              ac.abort(new DOMException('cancelled by the page', 'AbortError'));
            }
          },
        });
        await expect(run).rejects.toThrow('cancelled by the page');
        const steps = seen.filter((p) => p.stage.includes(inner));
        expect(steps).toHaveLength(1); // nothing ran past the abort
        expect(steps[0].done).toBeLessThan(steps[0].total); // mid-tensor (mid-site for AWQ)
        expect(outerAtAbort).toBeGreaterThanOrEqual(0);
        expect(count(outer)).toBe(outerAtAbort); // that tensor (site) never completed
      } finally {
        ws.dispose();
      }
    });
  }
});
