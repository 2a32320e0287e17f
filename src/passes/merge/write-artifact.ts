// Streams a merge into the lab's single-file artifact (safetensors + lab metadata, the bytes
// writeLabArtifact would give): the plan knows every output tensor's name, dtype and shape before any is
// merged, so the header goes first and each tensor's bytes follow as soon as they exist.
import { byteSize, DTYPES } from '../../model/dtype';
import { numel } from '../../model/tensor';
import type { MergePlan } from './plan';
import { runMerge, type RunOptions } from './run';

function header(plan: MergePlan): Uint8Array {
  const tok = plan.tokenizer;
  const tokenizer = tok?.kind === 'spm' ? { ...tok, scores: Array.from(tok.scores) } : tok;
  const entries: Record<string, unknown> = {};
  let offset = 0;
  for (const job of plan.jobs) {
    const bytes = byteSize(job.dtype, numel(job.shape));
    const dtype = DTYPES[job.dtype].safetensors;
    if (!dtype) throw new Error(`merge output ${job.out}: ${job.dtype} has no safetensors dtype`);
    entries[job.out] = { dtype, shape: job.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  entries.__metadata__ = { format: 'lab', 'lab.config': JSON.stringify(plan.config), ...(tokenizer ? { 'lab.tokenizer': JSON.stringify(tokenizer) } : {}) };
  let json = JSON.stringify(entries);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.byteLength), true);
  out.set(head, 8);
  return out;
}

/** Writes the merged model through `sink` in order; returns the number of bytes written. */
export async function writeMergedArtifact(plan: MergePlan, sink: (bytes: Uint8Array) => void | Promise<void>, opts: RunOptions = {}): Promise<number> {
  const head = header(plan);
  await sink(head);
  let written = head.byteLength;
  for await (const t of runMerge(plan, opts)) {
    await sink(t.data);
    written += t.data.byteLength;
  }
  return written;
}
