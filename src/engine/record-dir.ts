// A record directory, a run's (run-record.ts) or a sweep's (src/sweep/sweep-record.ts): files
// written atomically by name, and the events.jsonl the session logs into.
import { join } from 'node:path';
import YAML from 'yaml';
import { writeFileAtomicSync, writeJsonAtomicSync } from '../util/atomic-file.js';

export class RecordDir {
  readonly dir: string;
  readonly eventsFile: string;

  constructor(dir: string) {
    this.dir = dir;
    this.eventsFile = join(dir, 'events.jsonl');
  }

  writeJson(name: string, value: unknown): void {
    writeJsonAtomicSync(join(this.dir, name), value);
  }

  /** Without anchors and aliases: people read records, so a repeated object is written out again. */
  writeYaml(name: string, value: unknown): void {
    writeFileAtomicSync(
      join(this.dir, name),
      YAML.stringify(value, { aliasDuplicateObjects: false }),
    );
  }

  writeText(name: string, text: string): void {
    writeFileAtomicSync(join(this.dir, name), text);
  }
}
