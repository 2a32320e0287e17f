// Shared loaders for the stories260K fixture (../shared/models/stories260K).
import { readFileSync } from 'node:fs';
import { fileSetFromPath } from '../node/files';
import { loadModel } from '../src/io/load';
import type { Model } from '../src/model/model';
import { sharedPath, STORIES } from './fixtures';

export interface ReferenceCase {
  prompt: string;
  steps: number;
  prompt_tokens: number[];
  generated_tokens: number[];
  text: string;
  logits_after_bos_pos0?: number[];
  logits_at_last_prompt_pos?: number[];
  argmax_at_last_prompt_pos?: number;
}

export interface Reference {
  cases: ReferenceCase[];
  tokenizer_examples: { text: string; tokens: number[]; pieces: string[] }[];
}

export const loadReference = (): Reference => JSON.parse(readFileSync(sharedPath(STORIES.reference), 'utf8'));
export const referenceCase = (prompt: string) => loadReference().cases.find((c) => c.prompt === prompt)!;

export const loadStoriesGguf = (): Promise<Model> => loadModel(fileSetFromPath(sharedPath(STORIES.gguf)));

export function loadStoriesBin(): Promise<Model> {
  const files = new Map([...fileSetFromPath(sharedPath(STORIES.bin)), ...fileSetFromPath(sharedPath(STORIES.tok))]);
  return loadModel(files);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
