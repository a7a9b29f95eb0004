// The kernel builder as a library: what the CLI, the boot tests and the bench use.

export { defaultCacheDir } from "../util/paths.js";
export { type KernelBenchOptions, type KernelBenchResult, kernelBench } from "./bench.js";
export { defaultKernelDataDir } from "./context.js";
export type { KernelManifest } from "./manifest.js";
export { type ConfigOnlyResult, configureOnly, ensureKernel, type KernelArtifacts } from "./pipeline.js";
export type { Arch, Hypervisor, KernelRequest } from "./request.js";
export { type SmokeBootResult, smokeBoot } from "./smoke/boot.js";
