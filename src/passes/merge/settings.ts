// How a parameter's value is found for one tensor, as mergekit's evaluate_setting and ConfigReader: the
// model's own slice source first, then the output slice, then the global parameters; a filter matches when
// it is a substring of the tensor name; a list of numbers is a gradient, interpolated at t = the layer's
// position in its slice (0 for the embedding, 1 for the final norm and head).
import type { ParamValue } from './method';
import type { Parameters, Setting } from './spec';

export function evaluateSetting(tensor: string, setting: Setting, t: number): ParamValue | undefined {
  if (typeof setting === 'number' || typeof setting === 'boolean') return setting;
  if (setting.every((e) => typeof e === 'number')) {
    const g = setting as number[];
    const scaled = t * (g.length - 1);
    const i0 = Math.floor(scaled);
    const i1 = Math.min(g.length - 1, i0 + 1);
    const frac = scaled - i0;
    return (1 - frac) * g[i0] + frac * g[i1];
  }
  for (const cond of setting as Exclude<Setting, ParamValue | number[]>) {
    if (cond.filter === undefined || cond.filter === '*' || (tensor && tensor.includes(cond.filter))) return evaluateSetting(tensor, cond.value, t);
  }
  return undefined;
}

/** The parameter scopes for one tensor, innermost first. */
export function lookup(name: string, tensor: string, t: number, scopes: readonly (Parameters | undefined)[]): ParamValue | undefined {
  for (const scope of scopes) {
    if (scope && name in scope) {
      const v = evaluateSetting(tensor, scope[name], t);
      if (v !== undefined) return v;
    }
  }
  return undefined;
}
