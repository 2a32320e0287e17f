// The browser's store for predictor records and search state (src/search/idb-store.ts) in Chromium: what a
// search saves survives a page reload, records merge by recipe hash, and a search state loads back intact.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromiumSuite, startLab, type Lab } from './harness';

chromiumSuite('search and predictor store (IndexedDB) in Chromium', () => {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await startLab();
  }, 120_000);
  afterAll(async () => {
    await lab?.close();
  });

  it('keeps records and search state across a reload', async () => {
    await lab!.page.evaluate(async () => {
      const imp = new Function('p', 'return import(p)') as (p: string) => Promise<any>;
      const [{ idbJsonStore }, { addRecord }] = await Promise.all([imp('/src/search/idb-store.ts'), imp('/src/predict/records.ts')]);
      const store = idbJsonStore('lab-search-test');
      const rec = (hash: string, measured: Record<string, number>) => ({
        schema: 'lab.predict-record/1', base: 'b', recipeHash: hash, label: hash, bytes: 100, features: { probeKld: 0.01 }, measured,
      });
      await addRecord(store, rec('r1', { 'tinystories:ppl': 0.04 }));
      await addRecord(store, rec('r2', { 'tinystories:ppl': 0.2 }));
      await addRecord(store, rec('r1', { kld: 0.03 }));
      await store.put('search', { schema: 'lab.search-state/1', id: 'x', seconds: 1.5, prior: [], candidates: [{ n: 1, lo: -Infinity }] });
    });
    await lab!.page.reload();
    const back = await lab!.page.evaluate(async () => {
      const imp = new Function('p', 'return import(p)') as (p: string) => Promise<any>;
      const [{ idbJsonStore }, { loadRecords }] = await Promise.all([imp('/src/search/idb-store.ts'), imp('/src/predict/records.ts')]);
      const store = idbJsonStore('lab-search-test');
      return { records: await loadRecords(store, 'b'), state: await store.get('search'), missing: await store.get('nothing') };
    });
    expect(back.records.map((r: { recipeHash: string; measured: object }) => [r.recipeHash, r.measured])).toEqual([
      ['r1', { 'tinystories:ppl': 0.04, kld: 0.03 }], ['r2', { 'tinystories:ppl': 0.2 }],
    ]);
    // stored as JSON would be (so a state reads the same from a file or from IndexedDB): -Infinity becomes null
    expect(back.state).toEqual({ schema: 'lab.search-state/1', id: 'x', seconds: 1.5, prior: [], candidates: [{ n: 1, lo: null }] });
    expect(back.missing).toBeUndefined();
  });
});
