// The dataset sources load-dataset knows, by `source:` name.
import { csvSource } from './csv.js';
import { fashionMnistSource } from './fashion-mnist.js';
import { fashionMnistOfficialSource } from './fashion-mnist-official.js';
import { idxSource } from './idx.js';
import { jsonlSource } from './jsonl.js';
import { mnistSource } from './mnist.js';
import type { DatasetSource } from './types.js';
import type { DatasetSourceName } from '../options.js';

export const datasetSources: Readonly<Record<DatasetSourceName, DatasetSource>> = {
  'fashion-mnist': fashionMnistSource,
  'fashion-mnist-official': fashionMnistOfficialSource,
  mnist: mnistSource,
  idx: idxSource,
  csv: csvSource,
  jsonl: jsonlSource,
};
