// The quantization passes and their building blocks, for the registry (src/passes/index.ts) and for tools
// that need more than a pass (the CLI's plan printout, benchmarks, tests).
export { rtn } from './rtn';
export { hqq, hqqTensor } from './hqq';
export { gptq, gptqQuantize, gptqTensor } from './gptq';
export { awq, applyAwqScales, searchAwqScales, type AwqScaling } from './awq';
export { mixed, allocate, planMixed, type MixedPlan, type PlanRow } from './mixed-precision';
export { measureSensitivity, extrapolatedSensitivity, probeDistribution, type SensitivityEntry } from './sensitivity';
export { TargetParams, fitDType, quantPlan, isQuantizable } from './common';
