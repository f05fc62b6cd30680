/**
 * dsgen as a library: the whole harness (streaming NPZ, versions, metadata.json, memory
 * estimate, worker threads, verify) for a family of one's own.
 *
 * A family is a module that exports `family` (a {@linkcode GeneratorFamily}); name it by URL in
 * the spec, and worker threads import it too. A renderer in another language is a spec whose
 * family has a `command` (docs/renderer_protocol.md).
 *
 * ```ts ignore
 * import { generateDataset } from "jsr:@dsgen/dsgen";
 * const { path } = await generateDataset({
 *   family: { name: "blobs", module: new URL("./blobs.ts", import.meta.url).href, options: {} },
 *   seed: 42, numImages: 100_000, imageSize: 32, dtype: "uint8",
 * }, "data", { workers: 2 });
 * ```
 *
 * See examples/own_family/ for a complete family and script.
 *
 * @module
 */

export {
  generateDataset,
  type GenerateDatasetOptions,
  type GenerateResult,
  type RunOutput,
} from "./src/run/generate_dataset.ts";
export type { DatasetSpec, FamilyRef, ImageDtype } from "./src/generators/spec.ts";
export type {
  FactorKind,
  FactorSpec,
  GeneratorFamily,
  GeneratorOptions,
  ImageGenerator,
  JsonValue,
  LatentSpec,
  ShapeExtent,
} from "./src/generators/generator.ts";
export { imageKey, uniform } from "./src/generators/random.ts";
// A family with its own sample schema declares it with checkSampleSchema (see generator.ts).
export {
  allocateChunk,
  ARRAY_ROLES,
  type ArrayRole,
  type ArraySpec,
  checkSampleSchema,
  type ChunkArray,
  type ChunkLayout,
  SAMPLE_DTYPES,
  type SampleDtype,
  type SampleSchema,
  type SampleView,
} from "./src/generators/sample_schema.ts";
export { type OpenedVersion, openVersion } from "./src/store/open_version.ts";
export {
  type VerifyOptions,
  type VerifyStep,
  type VerifyStepName,
  verifyVersion,
} from "./src/validate/verify_version.ts";
export type { NamedProgram } from "./src/generators/named_program.ts";
export type {
  ArrayMetadata,
  FileRecord,
  SliceMetadata,
  VersionMetadata,
} from "./src/store/metadata.ts";
// Referenced by the options and results above: the plan `confirm` is shown, and what a run
// reports of its memory and of leftovers it removed.
export type { RunPlan } from "./src/run/plan.ts";
export type { StagingEntry, StagingOwner } from "./src/store/versions.ts";
export type { MemoryLimit } from "./src/run/preflight.ts";
export type { MemoryEstimate } from "./src/report/memory.ts";
export type { DatasetPlan } from "./src/pipeline/dataset.ts";
