// The dataset types are part of the public plugin API (src/plugin-api/dataset.ts); src/data uses
// them from there. Re-exported here so data modules keep one local import.
export type { Dataset, DatasetSplit, ImageInfo } from '../plugin-api/dataset.js';
