// A user's project in a temp directory that imports scalpel the way docs/plugins.md says:
// node_modules/scalpel is a symbolic link to this checkout (what `npm install` of a `file:`
// dependency and `npm link` both create), so scalpel's own dependencies resolve from its tree.
// No network, no npm run: the link is made directly.
import { spawn } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tempDir } from '../helpers/paths.js';

export function tempProject(prefix: string): string {
  const dir = tempDir(prefix);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      {
        name: 'my-plugins',
        type: 'module',
        private: true,
        peerDependencies: { scalpel: '*' },
        devDependencies: { scalpel: `file:${repoRoot}` },
      },
      null,
      2,
    ),
  );
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(repoRoot, join(dir, 'node_modules', 'scalpel'), 'dir');
  return dir;
}

export interface NodeResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node ...args` in `cwd`, a fresh process (nothing initialised by the test runner). */
export function runNode(args: readonly string[], cwd: string): Promise<NodeResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...args], {
      cwd,
      env: { ...process.env, SCALPEL_CACHE_DIR: '', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
