// The simulated cloud and its ComputeDriver (deterministic simulator, benchmarks, contract tests).
export { SimCloud, DEFAULT_LATENCIES, type SimLatencies, type SimFault, type SimServer, type SimOp, type RebuildOutcome, type PowerOutcome } from './cloud.ts';
export { SimComputeDriver, type SimDriverOptions } from './driver.ts';
