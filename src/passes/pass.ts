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
  /**
   * Each earlier step's input ([0] the recipe's input, [length - 1] the previous step's): a distillation's
   * teacher. Only the entries some pass declares in `readsEarlier` are kept; the rest are undefined (released).
   */
  earlier?: readonly (Model | undefined)[];
}

/** An earlier model a pass reads: the recipe's input ('base') or the previous step's input ('previous'). */
export type EarlierRef = 'base' | 'previous';

export interface Pass<P extends z.ZodType = z.ZodType> {
  readonly id: string;
  readonly version: number;
  readonly family: 'quant' | 'prune' | 'merge' | 'distill';
  readonly summary: string;
  readonly params: P;
  readonly needsCalibration: boolean;
  apply(model: Model, params: z.output<P>, ctx: PassContext): Promise<Model>;
  /**
   * The earlier models `apply` reads through ctx.earlier with these params. The runner keeps only those
   * alive (each is a full copy of the model); a pass that reads none leaves this out.
   */
  readsEarlier?(params: z.output<P>): readonly EarlierRef[];
}

export function definePass<P extends z.ZodType>(pass: Pass<P>): Pass<P> {
  return pass;
}
