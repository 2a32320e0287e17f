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
