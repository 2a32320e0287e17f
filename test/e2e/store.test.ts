// The IndexedDB model cache in Chromium: a model stored in small chunks loads back through the importer,
// is listed with its size, survives a page reload, is evicted by least recent use; a write past the origin's
// quota (set small through the DevTools protocol) fails with a clear error and loses nothing stored before.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STORIES } from '../fixtures';
import { chromiumSuite, startLab, type Lab } from './harness';

chromiumSuite('model cache (IndexedDB) in Chromium', () => {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await startLab();
    // a small quota for this origin (set before its storage is first used, which is when Chromium reads it)
    const cdp = await lab.page.context().newCDPSession(lab.page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: lab.url, quotaSize: 4 * 1024 * 1024 });
  });
  afterAll(async () => {
    await lab?.close();
  });

  /** Logits of BOS from the cached model, and the cache's listing. */
  const loadCached = () => lab!.page.evaluate(async () => {
    const imp = new Function('p', 'return import(p)') as (p: string) => Promise<any>;
    const [{ ModelCache }, { loadModel }, { CpuRuntime }] = await Promise.all([
      imp('/src/store/cache.ts'), imp('/src/io/load.ts'), imp('/src/runtime/cpu-reference.ts'),
    ]);
    const cache = await ModelCache.open('lab-test', { chunkBytes: 256 * 1024 });
    const model = await loadModel(await cache.fileSet('stories260K'));
    const logits = Array.from(await new CpuRuntime(model, { maxPositions: 8 }).forward([1])) as number[];
    const list = (await cache.list()).map((e: any) => ({ id: e.id, bytes: e.bytes, chunks: e.files[0].chunks }));
    cache.close();
    return { logits: logits.slice(0, 16), list };
  });

  it('stores stories260K in chunks, loads it back, and keeps it across a reload', async () => {
    const stored = await lab!.page.evaluate(async () => {
      const imp = new Function('p', 'return import(p)') as (p: string) => Promise<any>;
      const [{ ModelCache }, { loadModel }, { blobSource }, { CpuRuntime }] = await Promise.all([
        imp('/src/store/cache.ts'), imp('/src/io/load.ts'), imp('/src/io/source.ts'), imp('/src/runtime/cpu-reference.ts'),
      ]);
      const blob = await (await fetch('/models/stories260K.gguf')).blob();
      const direct = await loadModel(new Map([['stories260K.gguf', blobSource(blob, 'stories260K.gguf')]]));
      const cache = await ModelCache.open('lab-test', { chunkBytes: 256 * 1024 });
      const progress: number[] = [];
      const entry = await cache.put('stories260K', [{ path: 'stories260K.gguf', data: blob }], {
        meta: { format: 'gguf' }, onProgress: (p: { done: number }) => progress.push(p.done),
      });
      const model = await loadModel(await cache.fileSet('stories260K'));
      const a = await new CpuRuntime(direct, { maxPositions: 8 }).forward([1]);
      const b = await new CpuRuntime(model, { maxPositions: 8 }).forward([1]);
      let same = a.length === b.length;
      for (let i = 0; i < a.length; i++) same &&= a[i] === b[i];
      // a replaced entry (same id) leaves no orphan chunks: read the whole file back byte for byte
      await cache.put('stories260K', [{ path: 'stories260K.gguf', data: blob }], { meta: { format: 'gguf' } });
      const back = new Uint8Array(await (await cache.blob('stories260K', 'stories260K.gguf')).arrayBuffer());
      const orig = new Uint8Array(await blob.arrayBuffer());
      let identical = back.length === orig.length;
      for (let i = 0; identical && i < orig.length; i++) identical = back[i] === orig[i];
      // an exported HF folder goes in as the exporter's byte parts (never joined) and loads back from the cache
      const { exportHfFolder } = await imp('/src/io/hf-export.ts');
      const files = exportHfFolder(model);
      await cache.put('stories260K-hf', files.map((f: any) => ({ path: f.path, data: f.parts })), { kind: 'artifact' });
      const hf = await loadModel(await cache.fileSet('stories260K-hf'));
      const c = await new CpuRuntime(hf, { maxPositions: 8 }).forward([1]);
      let hfDiff = 0;
      for (let i = 0; i < a.length; i++) hfDiff = Math.max(hfDiff, Math.abs(a[i] - c[i]));
      await cache.delete('stories260K-hf');
      cache.close();
      return { bytes: entry.bytes, size: blob.size, chunks: entry.files[0].chunks, progress: progress.length, same, identical, hfDiff, hfFormat: hf.source.format };
    });
    expect(stored.bytes).toBe(stored.size);
    expect(stored.chunks).toBe(Math.ceil(stored.size / (256 * 1024)));
    expect(stored.progress).toBe(stored.chunks);
    expect(stored.same).toBe(true);
    expect(stored.identical).toBe(true);
    expect(stored.hfFormat).toBe('safetensors');
    expect(stored.hfDiff).toBeLessThan(1e-5);

    const before = await loadCached();
    await lab!.page.reload();
    const after = await loadCached();
    expect(after.list).toEqual([{ id: 'stories260K', bytes: stored.size, chunks: stored.chunks }]);
    expect(after.logits).toEqual(before.logits);
  });

  it('reports a quota error clearly and keeps what was stored; evicts least recently used', async () => {
    const out = await lab!.page.evaluate(async () => {
      const imp = new Function('p', 'return import(p)') as (p: string) => Promise<any>;
      const { ModelCache, StoreQuotaError } = await imp('/src/store/cache.ts');
      const cache = await ModelCache.open('lab-test', { chunkBytes: 256 * 1024 });
      const big = new Uint8Array(8 * 1024 * 1024).map((_, i) => (i * 2654435761) >>> 24);
      let error = '', isQuota = false;
      try {
        await cache.put('too-big', [{ path: 'weights.bin', data: big }]);
      } catch (e) {
        error = (e as Error).message;
        isQuota = e instanceof StoreQuotaError;
      }
      const afterFail = (await cache.list()).map((e: any) => e.id);
      await cache.put('small-a', [{ path: 'a.bin', data: new Uint8Array(1000).fill(1) }], { kind: 'artifact' });
      await new Promise((r) => setTimeout(r, 5));
      await cache.put('small-b', [{ path: 'b.bin', data: new Uint8Array(2000).fill(2) }], { kind: 'artifact' });
      const evicted = await cache.evict(1_000_000); // stories260K is the least recently used
      const left = (await cache.list()).map((e: any) => e.id);
      const usage = await cache.usage();
      cache.close();
      return { error, isQuota, afterFail, evicted, left, usageBytes: usage.bytes };
    });
    console.log(`quota error: ${out.error}`);
    expect(out.isQuota).toBe(true);
    expect(out.error).toMatch(/quota exceeded while caching "too-big" \(8\.0 MiB\)/);
    expect(out.afterFail).toEqual(['stories260K']);
    expect(out.evicted).toEqual(['stories260K']);
    expect(out.left.sort()).toEqual(['small-a', 'small-b']);
    expect(out.usageBytes).toBe(3000);
    expect((await loadCached().catch((e: Error) => e.message))).toMatch(/no entry "stories260K"/);
  });
}, [STORIES.reference]);
