// Paths tests need, independent of the build directory the tests were compiled into.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { packageRoot } from '../../src/util/package-root.js';

export const repoRoot = packageRoot;
/** Root of the compiled tree this test runs from (dist/ or another outDir). */
export const buildRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The compiled CLI entry point. */
export const cliPath = join(buildRoot, 'src', 'cli', 'main.js');
/** Source fixtures (not compiled): test/fixtures/… in the repository. */
export const fixturesDir = join(repoRoot, 'test', 'fixtures');

/** A fresh temporary directory. */
export function tempDir(prefix = 'scalpel-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
