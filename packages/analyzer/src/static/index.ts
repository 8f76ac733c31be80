export {
  analyzeStatic,
  analyzeStaticInto,
  type AnalyzeStaticInput,
  type ExtractedTree,
} from './analyze-static.js';
export { detectTyposquat, damerauLevenshtein } from './typosquat.js';
export { POPULAR_PACKAGES } from './popular-packages.js';
export * from './types.js';
export { readTarball, type KeptFile, type TarballContents, type ReadTarballOptions } from './tar-reader.js';
export { extractionTempRoot, makeExtractionDir } from './extraction-temp.js';
export { runsNodeGyp } from './manifest.js';
export {
  extractTarball,
  writtenBytes,
  type ExtractedFile,
  type ExtractTarballOptions,
  type TarExtraction,
} from './tar-extract.js';
export { compareManifests, CONFUSABLE_FIELDS, declaredFields } from './manifest-confusion.js';
export {
  createStaticPool,
  type StaticPool,
  type StaticPoolOptions,
  type StaticResult,
} from './static-pool.js';
