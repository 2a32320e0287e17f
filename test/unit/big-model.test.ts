// A 2.6 GB model (random f16 weights in a real Llama shape: hidden 4096, GQA 32/8 heads, FFN 11008, vocab 30000,
// 6 layers) goes import -> cache -> export without one large allocation: the GGUF is written tensor by tensor
// from a single scratch buffer, served by a local HTTP server and imported through HTTP Range requests straight
// into the disk-backed model cache (64 MiB chunks), loaded from the cache one tensor at a time, and exported
// again as GGUF parts (hashed as a writer streams them). The export is byte-identical to the original (sha256), and no ArrayBuffer made along the
// way exceeds 256 MB. Every byte lives in a temp folder that is removed afterwards. Not timed (see bench/).
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openFsCache } from '../../node/store-fs';
import { exportGgufParts } from '../../src/io/gguf-export';
import { loadModel } from '../../src/io/load';
import { RangeRequestError, urlSource } from '../../src/io/source';
import type { ModelConfig } from '../../src/model/config';
import { expectedShapes, modelBytes, type Model } from '../../src/model/model';
import { makeTensor, numel, type Tensor } from '../../src/model/tensor';

const LIMIT = 256e6;
const CONFIG: ModelConfig = {
  architecture: 'llama', hiddenSize: 4096, intermediateSize: 11008, numLayers: 6, numHeads: 32, numKvHeads: 8, headDim: 128,
  vocabSize: 30000, maxPositions: 4096, rmsNormEps: 1e-5, ropeTheta: 10000, ropeStyle: 'interleaved', attentionBias: false,
  tieWordEmbeddings: false, bosTokenId: 1, eosTokenId: 2,
};

/**
 * Records the largest typed array / ArrayBuffer constructed through the globals (what our code and most
 * libraries call) and through Buffer.alloc*, until `restore`.
 */
function trackAllocations() {
  const g = globalThis as Record<string, unknown>;
  const names = ['ArrayBuffer', 'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'BigInt64Array'];
  const saved = names.map((n) => g[n]);
  const track = { max: 0, count: 0 };
  const note = (o: { byteLength: number }) => {
    track.count++;
    if (o.byteLength > track.max) track.max = o.byteLength;
    return o;
  };
  for (const n of names) {
    g[n] = new Proxy(g[n] as new (...a: unknown[]) => { byteLength: number }, {
      construct: (target, args, newTarget) => note(Reflect.construct(target, args, newTarget === g[n] ? target : newTarget)),
    });
  }
  const bufferFns = ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const;
  const savedBuffer = bufferFns.map((f) => Buffer[f]);
  bufferFns.forEach((f, i) => ((Buffer as unknown as Record<string, unknown>)[f] = (...a: unknown[]) => note((savedBuffer[i] as (...x: unknown[]) => Buffer)(...a))));
  return {
    track,
    restore() {
      names.forEach((n, i) => (g[n] = saved[i]));
      bufferFns.forEach((f, i) => ((Buffer as unknown as Record<string, unknown>)[f] = savedBuffer[i]));
    },
  };
}

/** A static file server that honours single byte ranges (and HEAD), as any CDN does. `noRanges` ignores them. */
function serve(dir: string, noRanges = false): Promise<{ url: string; server: Server; requests: number[] }> {
  const requests: number[] = [];
  const server = createServer((req, res) => {
    const path = join(dir, decodeURIComponent(req.url!.slice(1)));
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      res.writeHead(404).end();
      return;
    }
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (req.method === 'HEAD') return res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes' }).end();
    if (!m || noRanges) return createReadStream(path).pipe(res.writeHead(200, { 'content-length': size }));
    const [start, end] = [Number(m[1]), Math.min(Number(m[2]), size - 1)];
    requests.push(end - start + 1);
    createReadStream(path, { start, end }).pipe(res.writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${size}` }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, requests })));
}

/** Write parts to a file, hashing as they go; `before(part)` may fill a part just in time. */
function writeParts(path: string, parts: readonly Uint8Array[], before: (p: Uint8Array) => void = () => undefined): string {
  const fd = openSync(path, 'w');
  const hash = createHash('sha256');
  try {
    for (const p of parts) {
      before(p);
      for (let done = 0; done < p.byteLength;) done += writeSync(fd, p, done, p.byteLength - done);
      hash.update(p);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

describe('a 2.6 GB model through import -> cache -> export', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-big-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('streams through HTTP Range, the disk cache and GGUF export: byte-identical, no ArrayBuffer over 256 MB', async () => {
    // -- the source GGUF: every tensor a view of one scratch buffer, filled with its own random f16 just before it is written
    const shapes = expectedShapes(CONFIG);
    const largest = Math.max(...[...shapes.values()].map((s) => 2 * numel(s)));
    const scratch = new Uint8Array(largest);
    const tensors = new Map<string, Tensor>();
    const fills = new Map<Uint8Array, { seed: number; f32: boolean }>();
    for (const [name, shape] of shapes) {
      const f32 = shape.length === 1; // norms
      const t = makeTensor(name, shape, f32 ? 'f32' : 'f16', scratch.subarray(0, (f32 ? 4 : 2) * numel(shape)));
      fills.set(t.data, { seed: fills.size + 1, f32 });
      tensors.set(name, t);
    }
    const synthetic: Model = { config: CONFIG, tensors, source: { format: 'synthetic', name: 'big.gguf' } };
    const total = modelBytes(synthetic);
    expect(total).toBeGreaterThan(2.5e9);
    expect(largest).toBeLessThan(LIMIT);
    const words = new Uint32Array(scratch.buffer);
    const random = (seed: number, from: number, to: number, f32: boolean) => {
      let x = Math.imul(seed, 2654435761) >>> 0 || 1;
      for (let i = from; i < to; i++) {
        x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
        // f16 pairs in +-[1/16, 1/8); norms (f32) just above 1
        words[i] = f32 ? 0x3f800000 | ((x >>> 0) & 0x3fff) : ((x >>> 0) & 0x83ff83ff) | 0x2c002c00;
      }
    };
    // random f16 once over the whole scratch; each tensor then gets its own first 16 KiB (a norm all of its
    // values), so every tensor differs and one written in the wrong place changes the file's hash
    random(0x9e3779b9, 0, words.length, false);
    const STAMP = 4096;
    const fill = (part: Uint8Array) => {
      const f = fills.get(part);
      if (f) random(f.seed, 0, Math.min(STAMP, part.byteLength >> 2), f.f32); // header and padding: nothing to do
    };
    const srcPath = join(dir, 'big.gguf');
    const t0 = performance.now();
    const seconds: Record<string, string> = {};
    const lap = (what: string, since: number) => (seconds[what] = ((performance.now() - since) / 1000).toFixed(1));
    const original = writeParts(srcPath, exportGgufParts(synthetic, 'big'), fill);
    expect(statSync(srcPath).size).toBeGreaterThan(total);
    lap('write source', t0);

    const alloc = trackAllocations();
    const { url, server, requests } = await serve(dir);
    try {
      const t1 = performance.now();
      // -- import: HTTP Range reads straight into the disk-backed cache, one 64 MiB chunk at a time
      const cache = openFsCache(join(dir, 'cache'), { chunkBytes: 64 * 2 ** 20 });
      const progress: number[] = [];
      const entry = await cache.put('big', [{ path: 'big.gguf', data: await urlSource(`${url}/big.gguf`) }], { onProgress: (p) => progress.push(p.done) });
      expect(entry.bytes).toBe(statSync(srcPath).size);
      expect(progress.length).toBe(Math.ceil(entry.bytes / (64 * 2 ** 20)));
      expect(Math.max(...requests)).toBe(64 * 2 ** 20);
      expect((await cache.list()).map((e) => [e.id, e.bytes])).toEqual([['big', entry.bytes]]);
      lap('URL -> cache', t1);
      const t2 = performance.now();

      // -- load from the cache and export again
      const model = await loadModel(await cache.fileSet('big'));
      expect(model.config).toMatchObject({ hiddenSize: 4096, numLayers: 6, numKvHeads: 8, vocabSize: 30000 });
      expect(modelBytes(model)).toBe(total);
      const biggestTensor = Math.max(...[...model.tensors.values()].map((t) => t.data.buffer.byteLength));
      lap('cache -> model', t2);
      const t3 = performance.now();
      // the exported parts hashed in the order a writer streams them (writing them out again would only add
      // disk time: node/export-dir.ts writes parts as they are, and test/unit/export-cli.test.ts covers it)
      const sink = createHash('sha256');
      for (const part of exportGgufParts(model, 'big')) sink.update(part);
      const exported = sink.digest('hex');
      lap('export', t3);
      expect(exported).toBe(original);
      console.log(`big model: ${(total / 1e9).toFixed(2)} GB of tensors, ${entry.files[0].chunks} cache chunks, ${requests.length} range requests; `
        + `largest allocation ${(alloc.track.max / 1e6).toFixed(1)} MB of ${alloc.track.count} tracked, largest tensor buffer ${(biggestTensor / 1e6).toFixed(1)} MB, `
        + `peak RSS ${(process.resourceUsage().maxRSS / 1e6).toFixed(2)} GB; export sha256 = source sha256 ${exported.slice(0, 16)}...; seconds ${JSON.stringify(seconds)}`);
      expect(biggestTensor).toBeLessThanOrEqual(LIMIT);
      expect(alloc.track.max).toBeLessThanOrEqual(LIMIT);
      expect(alloc.track.count).toBeGreaterThan(tensors.size); // the tracker saw the tensor reads
      await cache.delete('big');
      expect(await cache.list()).toEqual([]);
    } finally {
      alloc.restore();
      server.close();
    }
  }, 600_000);

  it('a server that ignores Range is refused by name, not downloaded whole', async () => {
    const { url, server } = await serve(dir, true);
    try {
      writeParts(join(dir, 'small.bin'), [new Uint8Array(1000).fill(7)]);
      const src = await urlSource(`${url}/small.bin`);
      expect(src.size).toBe(1000);
      await expect(src.read(10, 20)).rejects.toThrow(RangeRequestError);
      await expect(src.read(10, 20)).rejects.toThrow(/small\.bin: asked for bytes 10-29, got HTTP 200: the server does not serve byte ranges/);
      await expect(urlSource(`${url}/missing.bin`)).rejects.toThrow(/missing\.bin: HTTP 404/);
      await expect(src.read(990, 20)).rejects.toThrow(/truncated/);
    } finally {
      server.close();
    }
  });
});
