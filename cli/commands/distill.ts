// `lab distill`: train a student toward a teacher on a text file, on the CPU trainer or WebGPU (same flags, same
// progress line per update: a text loss curve), with resumable checkpoints in one format for both backends, and
// the student written as a lab artifact or GGUF.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readSafetensorsHeader } from '../../src/io/safetensors';
import { bytesSource } from '../../src/io/source';
import { getNodeGpuDevice } from '../../node/gpu';
import { RECIPES_DIR } from '../../node/paths';
import { gpuTrainingUnsupported } from '../../src/gpu/train/fake-quant';
import { trainOnGpu } from '../../src/gpu/train/run';
import { exportGguf } from '../../src/io/gguf-export';
import { writeLabArtifact } from '../../src/io/lab-artifact';
import { modelBytes, modelParams, type Model } from '../../src/model/model';
import { toFloat32 } from '../../src/model/tensor';
import { calibrationFromTokens } from '../../src/passes/calibration';
import { distillTrainer, stepLine, StudentConfig, studentFromScratch, studentFromTeacher, windowBatches } from '../../src/passes/distill/index';
import type { StepInfo } from '../../src/passes/distill/index';
import { isLinearWeight } from '../../src/passes/quant/common';
import { runRecipe } from '../../src/recipe/runner';
import { parseRecipe } from '../../src/recipe/schema';
import { num, parse, report, UsageError, type Command } from '../command';
import { openModel, tokenizerOf } from '../load';

function readJson(path: string, what: string): unknown {
  if (!existsSync(path)) throw new UsageError(`${what} ${path}: no such file`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not JSON (${(e as Error).message})`);
  }
}

const dims = (m: Model) => {
  const c = m.config;
  let zeros = 0, linear = 0;
  for (const [n, t] of m.tensors) {
    if (!isLinearWeight(n)) continue;
    const v = toFloat32(t);
    linear += v.length;
    for (let i = 0; i < v.length; i++) zeros += +(v[i] === 0);
  }
  const sparse = zeros / linear >= 0.01 ? `, ${((100 * zeros) / linear).toFixed(1)}% zeros in block linears` : '';
  return `${c.numLayers} layers, ${c.numHeads} heads (${c.numKvHeads} kv), hidden ${c.hiddenSize}, ffn ${c.intermediateSize}; ${modelParams(m).toLocaleString('en-US')} params${sparse}`;
};

/** The update a checkpoint (either backend's: one format) was written at. */
async function checkpointStep(bytes: Uint8Array): Promise<number> {
  const { metadata } = await readSafetensorsHeader(bytesSource(bytes, 'checkpoint'));
  return metadata['train.state'] ? (JSON.parse(metadata['train.state']).step as number) : 0;
}

/** The first thing the WebGPU trainer cannot do for this run, or undefined. */
function gpuUnsupported(student: Model, loraRank: number | undefined, hiddenMse: number): string | undefined {
  if (loraRank !== undefined) return '--lora-rank: LoRA training is CPU-only; use --backend cpu';
  if (hiddenMse > 0) return '--hidden-mse: the hidden-state MSE loss is CPU-only; use --backend cpu or --hidden-mse 0';
  // quantized students train straight-through their formats on either backend, in the formats the GPU can fake-quantize
  const why = gpuTrainingUnsupported(student);
  return why && `student tensor ${why}; use --backend cpu`;
}

export const distillCommand: Command = {
  usage: '--teacher <model> (--student-config cfg.json [--init teacher|scratch] | --from-pruned <recipe> | --student <model>) --data text.txt --steps N ' +
    '[--lr 1e-3] [--seq-len 64] [--batch 2] [--accumulate 1] [--temperature 1] [--top-k 0] [--ce 0] [--hidden-mse 0] [--lora-rank r] [--seed 0] ' +
    '[--checkpoint ckpt.safetensors [--checkpoint-every 50] [--resume]] [--log-every N] [--backend cpu|webgpu] --out student.safetensors|.gguf [--json]',
  summary: 'distil a teacher into a student (a smaller config, a pruned model or any model) on a text file; CPU or WebGPU trainer, progress per update',
  async run(argv, signal) {
    const { values } = parse(argv, {
      teacher: { type: 'string' }, 'student-config': { type: 'string' }, 'from-pruned': { type: 'string' }, student: { type: 'string' },
      init: { type: 'string', default: 'teacher' }, data: { type: 'string' }, steps: { type: 'string' }, lr: { type: 'string' },
      'seq-len': { type: 'string' }, batch: { type: 'string' }, accumulate: { type: 'string' }, warmup: { type: 'string' },
      temperature: { type: 'string' }, 'top-k': { type: 'string' }, ce: { type: 'string' }, 'hidden-mse': { type: 'string' },
      'lora-rank': { type: 'string' }, seed: { type: 'string' }, checkpoint: { type: 'string' }, 'checkpoint-every': { type: 'string' },
      resume: { type: 'boolean' }, 'log-every': { type: 'string' }, out: { type: 'string' }, backend: { type: 'string', default: 'cpu' },
    });
    const backend = values.backend as string;
    if (backend !== 'cpu' && backend !== 'webgpu') throw new UsageError(`--backend must be cpu or webgpu, got "${backend}"`);
    const out = values.out as string | undefined;
    if (!values.teacher) throw new UsageError('--teacher is required');
    if (!values.data) throw new UsageError('--data <text file> is required');
    if (!values.steps) throw new UsageError('--steps is required');
    if (!out) throw new UsageError('--out is required');
    if (!/\.(safetensors|gguf)$/.test(out)) throw new UsageError(`--out ${out}: use a .safetensors or .gguf file name`);
    const sources = (['student-config', 'from-pruned', 'student'] as const).filter((k) => values[k] !== undefined);
    if (sources.length !== 1) throw new UsageError('give exactly one of --student-config, --from-pruned, --student');
    if (values.init !== 'teacher' && values.init !== 'scratch') throw new UsageError(`--init must be teacher or scratch, got "${values.init}"`);
    if (values.resume && !values.checkpoint) throw new UsageError('--resume needs --checkpoint PATH');
    if (!existsSync(values.data as string)) throw new UsageError(`--data ${values.data}: no such file`);

    const teacher = await openModel(values.teacher as string, signal);
    const tok = tokenizerOf(teacher);
    const tokens = tok.encode(readFileSync(values.data as string, 'utf8').replace(/\r\n/g, '\n'));
    const seed = num(values.seed, 'seed', 0);

    let student: Model;
    if (values['student-config']) {
      const parsed = StudentConfig.safeParse(readJson(values['student-config'] as string, '--student-config'));
      if (!parsed.success) throw new UsageError(`--student-config: ${parsed.error.issues[0].path.join('.') || '(root)'}: ${parsed.error.issues[0].message}`);
      student = values.init === 'scratch' ? studentFromScratch(teacher, parsed.data, seed) : studentFromTeacher(teacher, parsed.data);
    } else if (values['from-pruned']) {
      const name = values['from-pruned'] as string;
      const path = existsSync(name) ? name : resolve(RECIPES_DIR, `${name}.json`);
      const recipe = parseRecipe(readJson(path, '--from-pruned recipe'), path);
      const c = recipe.calibration;
      const calibration = calibrationFromTokens(tokens, c.sequences, c.length, c.seed, tok.bosId, `${values.data} (${c.sequences} x ${c.length})`);
      student = (await runRecipe(teacher, recipe, { calibration, signal })).model;
    } else {
      student = await openModel(values.student as string, signal);
    }

    const loraRank = values['lora-rank'] !== undefined ? num(values['lora-rank'], 'lora-rank', 8) : undefined;
    const params = {
      steps: num(values.steps, 'steps', 100), lr: num(values.lr, 'lr', 1e-3), seqLen: num(values['seq-len'], 'seq-len', 64),
      batch: num(values.batch, 'batch', 2), accumulate: num(values.accumulate, 'accumulate', 1), warmup: num(values.warmup, 'warmup', 0), seed,
      loss: {
        temperature: num(values.temperature, 'temperature', 1), topK: num(values['top-k'], 'top-k', 0),
        ce: num(values.ce, 'ce', 0), hiddenMse: num(values['hidden-mse'], 'hidden-mse', 0),
      },
      ...(loraRank !== undefined ? { lora: { rank: loraRank } } : {}),
    };
    const ckpt = values.checkpoint as string | undefined;
    const resume = values.resume && ckpt && existsSync(ckpt) ? new Uint8Array(readFileSync(ckpt)) : undefined;
    const json = !!values.json;
    const logEvery = num(values['log-every'], 'log-every', Math.max(1, Math.round(params.steps / 20)));
    const tokensPerStep = params.seqLen * params.batch * params.accumulate;
    let t0 = performance.now(), startStep = 0;
    const onStep = (s: StepInfo) => {
      if (s.step % logEvery === 0 || s.step === s.steps) {
        console.error(stepLine(s, ((s.step - startStep) * tokensPerStep) / ((performance.now() - t0) / 1000)));
      }
    };
    const checkpointEvery = ckpt ? num(values['checkpoint-every'], 'checkpoint-every', 50) : undefined;
    const onCheckpoint = ckpt ? (bytes: Uint8Array) => {
      writeFileSync(`${ckpt}.tmp`, bytes); // never leave a half-written checkpoint where the last good one was
      renameSync(`${ckpt}.tmp`, ckpt);
    } : undefined;
    const announce = async () => {
      if (resume) console.error(`resumed from ${ckpt} at step ${(startStep = await checkpointStep(resume))}`);
      if (!json) console.error(`teacher ${dims(teacher)}\nstudent ${dims(student)}\ntext ${tokens.length.toLocaleString('en-US')} tokens`);
      t0 = performance.now();
    };

    let model: Model, trainedHistory: StepInfo[];
    if (backend === 'webgpu') {
      const unsupported = gpuUnsupported(student, loraRank, params.loss.hiddenMse);
      if (unsupported) throw new UsageError(`--backend webgpu: ${unsupported}`);
      const device = await getNodeGpuDevice();
      await announce();
      const { lora: _lora, loss: { hiddenMse: _h, ...loss }, ...config } = params;
      const r = await trainOnGpu(device, student, tokens, {
        ...config, teacher, loss, signal, onProgress: onStep, checkpointEvery, onCheckpoint, resume,
      });
      model = r.model;
      trainedHistory = r.history;
    } else {
      let trainer;
      try {
        trainer = distillTrainer(teacher, student, windowBatches(tokens, { seqLen: params.seqLen, batch: params.batch, seed, bosId: tok.bosId }), params);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      if (resume) await trainer.restore(resume);
      await announce();
      await trainer.run({ signal, onStep, checkpointEvery, onCheckpoint });
      model = trainer.toModel(`${student.source.name} distilled`);
      trainedHistory = trainer.history;
    }
    const bytes = out.endsWith('.gguf') ? exportGguf(model) : writeLabArtifact(model);
    writeFileSync(out, bytes);
    const history = trainedHistory.map((h) => ({ step: h.step, loss: h.loss, ...h.parts }));
    const result = {
      teacher: values.teacher, student: { config: model.config, params: modelParams(model), bytes: modelBytes(model) },
      backend, steps: trainedHistory.at(-1)?.step ?? startStep, tokensPerStep, firstLoss: history[0]?.loss ?? null, lastLoss: history.at(-1)?.loss ?? null,
      seconds: (performance.now() - t0) / 1000, out, history,
    };
    report(json, result, () => `distilled ${result.steps} steps (${backend}): loss ${result.firstLoss?.toFixed(4)} -> ${result.lastLoss?.toFixed(4)} in ${result.seconds.toFixed(1)} s\nwrote ${out} (${bytes.byteLength.toLocaleString('en-US')} B)`);
  },
};
