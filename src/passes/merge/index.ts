// The only place that knows every merge method, by mergekit's merge_method name. Adding a method is one file
// plus one line here.
import { dareLinearMethod, dareTiesMethod } from './dare';
import { linearMethod } from './linear';
import type { MergeMethod } from './method';
import { passthroughMethod } from './passthrough';
import { slerpMethod } from './slerp';
import { taskArithmeticMethod } from './task-arithmetic';
import { tiesMethod } from './ties';

export const MERGE_METHODS = {
  linear: linearMethod,
  slerp: slerpMethod,
  task_arithmetic: taskArithmeticMethod,
  ties: tiesMethod,
  dare_ties: dareTiesMethod,
  dare_linear: dareLinearMethod,
  passthrough: passthroughMethod,
} satisfies Record<string, MergeMethod>;

export type MergeMethodId = keyof typeof MERGE_METHODS;
export const MERGE_METHOD_IDS = Object.keys(MERGE_METHODS) as [MergeMethodId, ...MergeMethodId[]];
