// Every file parser against thousands of damaged inputs (test/fuzz/harness.ts): GGUF, llama2.c checkpoint and
// tokenizer, HF safetensors + config.json + tokenizer.json, the lab's single-file artifact, ONNX protobuf,
// mergekit YAML.
// Seeds are real files: stories260K and what our exporters write from it. Plus hand-made headers that claim
// 2^40 elements, which must be refused before anything that size is allocated.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { readGguf } from '../../src/io/gguf';
import { exportHfFolder, fileBytes } from '../../src/io/hf-export';
import { writeLabArtifact } from '../../src/io/lab-artifact';
import { parseLlama2cTokenizer } from '../../src/io/llama2c-tokenizer';
import { loadModel } from '../../src/io/load';
import { parseMergekitYaml } from '../../src/io/mergekit-yaml';
import { buildDecoder } from '../../src/io/onnx/decoder';
import { decodeModel } from '../../src/io/onnx/proto';
import { writeGguf } from '../../src/io/gguf-writer';
import { bytesSource } from '../../src/io/source';
import type { Model } from '../../src/model/model';
import { createTokenizer } from '../../src/model/tokenizer/index';
import { describeWithShared, readShared, REPO, STORIES } from '../fixtures';
import { applyMutation, describeStats, fuzz, isClearError, mutation, type FuzzStats } from './harness';

const RUNS = Number(process.env.FUZZ_RUNS ?? 600);
const files = (entries: [string, Uint8Array][]) => new Map(entries.map(([n, b]) => [n, bytesSource(b, n)]));
const utf8 = new TextEncoder();
const all: FuzzStats[] = [];

/** Load a model from files, then build its tokenizer and encode a line: what a validator does with an artifact. */
async function loadAndTokenize(set: Map<string, ReturnType<typeof bytesSource>>) {
  const m = await loadModel(set);
  if (m.tokenizer) createTokenizer(m.tokenizer).encode('Once upon a time');
  return m;
}

describeWithShared('fuzzing the file parsers', [STORIES.gguf, STORIES.bin, STORIES.tok], () => {
  let gguf: Uint8Array, bin: Uint8Array, tok: Uint8Array;
  let hf: Map<string, Uint8Array>;
  let lab: Uint8Array, onnx: Uint8Array;

  beforeAll(async () => {
    gguf = readShared(STORIES.gguf);
    bin = readShared(STORIES.bin);
    tok = readShared(STORIES.tok);
    const model: Model = await readGguf(bytesSource(gguf, 'stories260K.gguf'));
    hf = new Map(exportHfFolder(model).map((f) => [f.path, fileBytes(f)]));
    lab = writeLabArtifact(model);
    onnx = buildDecoder(model).files.onnx;
  });

  it('GGUF', async () => {
    const s = await fuzz('GGUF', mutation(gguf.length, 16_384), (m) => loadAndTokenize(files([['m.gguf', applyMutation(gguf, m, utf8.encode('GGUF'))]])), { runs: RUNS });
    all.push(s);
    expect(s.rejected).toBeGreaterThan(RUNS / 2);
  });

  it('llama2.c checkpoint and tokenizer', async () => {
    const a = await fuzz('llama2.c checkpoint', mutation(bin.length, 256), (m) => loadModel(files([['m.bin', applyMutation(bin, m)], ['tok512.bin', tok]])), { runs: RUNS / 2 });
    const b = await fuzz('llama2.c tokenizer', mutation(tok.length), async (m) => createTokenizer(parseLlama2cTokenizer(applyMutation(tok, m), 'tok512.bin')).encode('Once upon a time'), { runs: RUNS });
    all.push(a, b);
    expect(a.rejected).toBeGreaterThan(0);
    expect(b.rejected).toBeGreaterThan(0);
  });

  it('HF folder: model.safetensors, config.json', async () => {
    const st = hf.get('model.safetensors')!;
    const withFile = (name: string, bytes: Uint8Array) => files([...hf].map(([n, b]): [string, Uint8Array] => [n, n === name ? bytes : b]));
    const a = await fuzz('safetensors', mutation(st.length, 2048), (m) => loadAndTokenize(withFile('model.safetensors', applyMutation(st, m))), { runs: RUNS / 2 });
    const cfg = hf.get('config.json')!;
    const b = await fuzz('config.json', mutation(cfg.length, cfg.length), (m) => loadAndTokenize(withFile('config.json', applyMutation(cfg, m))), { runs: RUNS / 4 });
    all.push(a, b);
    expect(a.rejected).toBeGreaterThan(0);
    expect(b.rejected).toBeGreaterThan(0);
  });

  it('tokenizer.json: damaged bytes and damaged structure', async () => {
    const tj = hf.get('tokenizer.json')!;
    const json = JSON.parse(new TextDecoder().decode(tj));
    const withTok = (bytes: Uint8Array) => files([...hf].map(([n, b]): [string, Uint8Array] => [n, n === 'tokenizer.json' ? bytes : b]));
    const a = await fuzz('tokenizer.json bytes', mutation(tj.length, tj.length), (m) => loadAndTokenize(withTok(applyMutation(tj, m))), { runs: RUNS / 4 });
    // replace one value somewhere in the tree (model, normalizer, pre_tokenizer, decoder, added_tokens...) with any JSON
    const paths = jsonPaths(json, 4);
    const b = await fuzz('tokenizer.json structure', fc.tuple(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 3 })), ([path, value]) =>
      loadAndTokenize(withTok(utf8.encode(JSON.stringify(replaceAt(json, path, value))))), { runs: RUNS / 4 });
    all.push(a, b);
    expect(a.rejected + b.rejected).toBeGreaterThan(0);
  });

  it('lab single-file artifact (safetensors + metadata)', async () => {
    const s = await fuzz('lab artifact', mutation(lab.length, 8192), (m) => loadAndTokenize(files([['m.safetensors', applyMutation(lab, m)]])), { runs: RUNS / 2 });
    all.push(s);
    expect(s.rejected).toBeGreaterThan(0);
  });

  it('ONNX protobuf', async () => {
    const s = await fuzz('ONNX', mutation(onnx.length, 8192), async (m) => decodeModel(applyMutation(onnx, m)), { runs: RUNS / 2 });
    all.push(s);
    expect(s.rejected).toBeGreaterThan(0);
  });

  it('mergekit YAML (our recipes library), and an alias bomb', async () => {
    const seeds = ['merge-ties.yaml', 'merge-slerp.yaml'].map((f) => readFileSync(join(REPO, 'static/recipes', f)));
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    const s = await fuzz('mergekit YAML', fc.tuple(fc.constantFrom(0, 1), mutation(2048, 2048)),
      async ([i, m]) => parseMergekitYaml(text(applyMutation(seeds[i], m)), 'merge.yaml'), { runs: RUNS / 2 });
    all.push(s);
    expect(s.rejected).toBeGreaterThan(0);
    // "billion laughs": nine levels of ten aliases each would expand to 10^9 nodes
    const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      ...Array.from({ length: 8 }, (_, k) => `${'bcdefghi'[k]}: &${'bcdefghi'[k]} [${Array(10).fill(`*${'abcdefghi'[k]}`).join(',')}]`), 'merge_method: linear'].join('\n');
    const t0 = performance.now();
    const e = await Promise.resolve().then(() => parseMergekitYaml(bomb, 'bomb.yaml')).then(() => null, (err: unknown) => err);
    expect(isClearError(e), String(e)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('headers that claim 2^40 elements are refused before allocating', async () => {
    const rss0 = process.memoryUsage().rss;
    const refuse = async (what: string, load: () => Promise<unknown>, pattern: RegExp) => {
      const e = await load().then(() => null, (err: unknown) => err);
      expect(isClearError(e), `${what}: ${e}`).toBe(true);
      expect((e as Error).message, what).toMatch(pattern);
    };
    // GGUF: one tensor of shape [2^20, 2^20] f32, in a file of a few hundred bytes
    const huge = writeGguf({ 'general.architecture': { type: 'string', value: 'llama' } }, [{ name: 'token_embd.weight', shape: [1, 1], dtype: 'f32', data: new Uint8Array(4) }]);
    const hugeShape = patchGgufDims(huge, [2 ** 20, 2 ** 20]);
    await refuse('GGUF 2^40 elements', () => loadModel(files([['m.gguf', hugeShape]])), /GGUF|truncated|metadata|architecture/i);
    // safetensors: a header promising [2^20, 2^20] f32 in 16 bytes of data
    const header = utf8.encode(JSON.stringify({ w: { dtype: 'F32', shape: [2 ** 20, 2 ** 20], data_offsets: [0, 16] } }));
    const st = new Uint8Array(8 + header.length + 16);
    new DataView(st.buffer).setBigUint64(0, BigInt(header.length), true);
    st.set(header, 8);
    await refuse('safetensors 2^40 elements', () => loadModel(files([['m.safetensors', st]])), /safetensors|lab artifact/);
    // safetensors: a header length of 2^40
    const len = st.slice();
    new DataView(len.buffer).setBigUint64(0, 2n ** 40n, true);
    await refuse('safetensors header length 2^40', () => loadModel(files([['m.safetensors', len]])), /header length/);
    // llama2.c: dim 2^20, vocab 2^20 (a 2^40-element embedding)
    const l2 = bin.slice(0, 4096);
    new DataView(l2.buffer).setInt32(0, 2 ** 20, true);
    new DataView(l2.buffer).setInt32(20, 2 ** 20, true);
    await refuse('llama2.c 2^40 elements', () => loadModel(files([['m.bin', l2], ['tok512.bin', tok]])), /llama2\.c/);
    const growth = process.memoryUsage().rss - rss0;
    console.log(`huge claims refused; RSS growth ${(growth / 2 ** 20).toFixed(0)} MiB`);
    expect(growth).toBeLessThan(256 * 2 ** 20);
  });

  it('prints the figures', () => {
    for (const s of all) console.log(describeStats(s));
    const cases = all.reduce((n, s) => n + s.cases, 0);
    console.log(`fuzz (parsers): ${cases} cases tried, 0 crashes, 0 hangs (seed ${process.env.FUZZ_SEED ?? 13})`);
    expect(cases).toBeGreaterThanOrEqual(RUNS * 3);
    for (const s of all) expect(s.peakRssGrowth).toBeLessThan(1024 * 2 ** 20);
  });
});

type Path = (string | number)[];

function jsonPaths(v: unknown, depth: number, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (depth === 0 || v === null || typeof v !== 'object') return out;
  const entries = Array.isArray(v) ? v.slice(0, 3).map((x, i) => [i, x] as const) : Object.entries(v).slice(0, 12);
  for (const [k, x] of entries) out.push(...jsonPaths(x, depth - 1, [...at, k]));
  return out;
}

function replaceAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  node[path[path.length - 1]] = value;
  return copy;
}

/** Rewrite the dims of the only tensor of a GGUF written by writeGguf (n_dims u32, then u64 dims). */
function patchGgufDims(file: Uint8Array, dims: number[]): Uint8Array {
  const out = file.slice();
  const name = utf8.encode('token_embd.weight');
  let at = -1;
  for (let i = 0; i + name.length <= out.length; i++) if (name.every((b, j) => out[i + j] === b)) (at = i + name.length);
  const v = new DataView(out.buffer);
  if (v.getUint32(at, true) !== dims.length) throw new Error('patchGgufDims: unexpected layout');
  dims.forEach((d, i) => v.setBigUint64(at + 4 + 8 * i, BigInt(d), true));
  return out;
}
