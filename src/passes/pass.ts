// The contract every compression pass follows (quantize, prune, merge, distill): pure with respect to its
// input model, parameters validated by a zod schema, progress and cancellation through the context.
import type { z } from 'zod';
import type { Model } from '../model/model';
import type { ModelResolver } from './merge/plan';

/** Token sequences the pass may run through the model (GPTQ's Hessian, AWQ's scales, Wanda's norms). */
export interface Calibration {
  readonly sequences: readonly (readonly number[])[];
  /** Where they came from, for reports: "valid_a.txt, 8 x 256 tokens, seed 0". */
  readonly description: string;
}

export interface PassContext {
  calibration?: Calibration;
  signal?: AbortSignal;
  onProgress?: (p: { stage: string; done: number; total: number }) => void;
  /** Findings worth showing people (per-tensor errors, the chosen plan); collected into the recipe report. */
  report?: (entry: Record<string, unknown>) => void;
  /** Opens other models a pass reads (a merge's inputs) by reference, lazily; given by the host. */
  models?: ModelResolver;
  /** The models a recipe held before each earlier step ([0] its input): a distillation's teacher. */
  earlier?: readonly Model[];
}

export interface Pass<P extends z.ZodType = z.ZodType> {
  readonly id: string;
  readonly version: number;
  readonly family: 'quant' | 'prune' | 'merge' | 'distill';
  readonly summary: string;
  readonly params: P;
  readonly needsCalibration: boolean;
  apply(model: Model, params: z.output<P>, ctx: PassContext): Promise<Model>;
}

export function definePass<P extends z.ZodType>(pass: Pass<P>): Pass<P> {
  return pass;
}
