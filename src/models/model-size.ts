// Size of a model on disk: model.json plus the weight files it lists, raw and gzipped (what a
// web server with compression would send).
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface FileSize {
  bytes: number;
  gzipBytes: number;
}

export async function fileSize(path: string): Promise<FileSize> {
  const data = await fs.readFile(path);
  return { bytes: data.length, gzipBytes: gzipSync(data, { level: 9 }).length };
}

export interface ModelSize {
  modelJson: FileSize;
  weights: FileSize;
  /** Sums of the two. */
  bytes: number;
  gzipBytes: number;
}

/** Sizes of a Hugging Face layout: config.json as the "model.json", the safetensors files as weights. */
async function hfSizeOnDisk(dir: string): Promise<ModelSize> {
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.safetensors')).sort();
  const weightsData = Buffer.concat(await Promise.all(files.map((f) => fs.readFile(join(dir, f)))));
  const weights = {
    bytes: weightsData.length,
    gzipBytes: gzipSync(weightsData, { level: 9 }).length,
  };
  const config = await fileSize(join(dir, 'config.json'));
  return {
    modelJson: config,
    weights,
    bytes: config.bytes + weights.bytes,
    gzipBytes: config.gzipBytes + weights.gzipBytes,
  };
}

/**
 * Sizes of `<dir>/model.json` and the weight files its manifest lists — or, when `modelJson` names
 * a directory (a Hugging Face layout), of its config.json and safetensors files.
 */
export async function modelSizeOnDisk(dir: string, modelJson = 'model.json'): Promise<ModelSize> {
  const jsonPath = join(dir, modelJson);
  if ((await fs.stat(jsonPath)).isDirectory()) return hfSizeOnDisk(jsonPath);
  const json = JSON.parse(await fs.readFile(jsonPath, 'utf8')) as {
    weightsManifest?: { paths: string[] }[];
  };
  const paths = (json.weightsManifest ?? []).flatMap((g) => g.paths);
  const parts = await Promise.all(paths.map((p) => fs.readFile(join(dir, p))));
  const weightsData = Buffer.concat(parts);
  const weights = {
    bytes: weightsData.length,
    gzipBytes: gzipSync(weightsData, { level: 9 }).length,
  };
  const mj = await fileSize(jsonPath);
  return {
    modelJson: mj,
    weights,
    bytes: mj.bytes + weights.bytes,
    gzipBytes: mj.gzipBytes + weights.gzipBytes,
  };
}
