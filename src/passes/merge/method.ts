// What a merge method is, as mergekit's MergeMethod: which parameters it reads (global ones and per-model
// tensor parameters, each with a default or required) and how it combines one tensor from each input into
// one output tensor. Methods see Float32Arrays only; loading, dtypes and layer plumbing live in plan/run.

export type ParamValue = number | boolean;

export interface ParamDef {
  readonly name: string;
  /** Missing and required: the merge stops and names the parameter, the model and the tensor. */
  readonly required?: boolean;
  readonly default?: ParamValue;
}

export interface MethodInput {
  /** The model reference as the config spells it (a path, or "self"). */
  readonly model: string;
  readonly values: Float32Array;
  /** This model's tensor parameters (weight, density, scale ...) evaluated for this tensor. */
  readonly params: Readonly<Record<string, ParamValue | undefined>>;
}

export interface MethodCall {
  readonly inputs: readonly MethodInput[];
  /** Index of base_model among the inputs, or -1 when the config names none (or it is absent here). */
  readonly baseIndex: number;
  /** Global parameters (t, normalize, lambda ...) evaluated for this tensor. */
  readonly params: Readonly<Record<string, ParamValue | undefined>>;
  /** A seeded generator per input model, fixed by (seed, tensor, model): results never depend on tensor order. */
  readonly random: (model: string) => () => number;
  /** The output tensor's name, for error messages. */
  readonly tensor: string;
}

export interface MergeMethod {
  /** mergekit's merge_method name. */
  readonly id: string;
  readonly summary: string;
  readonly reference?: string;
  /** Needs base_model (task vectors are differences to it; SLERP starts from it). */
  readonly needsBase: boolean;
  readonly params: readonly ParamDef[];
  readonly tensorParams: readonly ParamDef[];
  merge(call: MethodCall): Float32Array;
}

export const defineMethod = (m: MergeMethod) => m;

export function num(v: ParamValue | undefined, name: string, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}: parameter ${name} must be a number, got ${String(v)}`);
  return v;
}

export function bool(v: ParamValue | undefined, name: string, where: string): boolean {
  if (typeof v === 'number') return v !== 0;
  if (typeof v !== 'boolean') throw new Error(`${where}: parameter ${name} must be true or false, got ${String(v)}`);
  return v;
}
