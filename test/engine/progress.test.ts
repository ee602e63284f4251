// Progress lines name the stage once: a label that repeats the stage id (stages write
// `${ctx.stageId}: 3 epochs`) is shown without the copy, on the console and in the records.
import { strict as assert } from 'node:assert';
import { ownLabel, ProgressSink } from '../../src/engine/progress.js';
import type { Terminal } from '../../src/engine/terminal.js';

/** A non-TTY terminal that keeps what is written. */
function fakeTerminal(lines: string[]): Terminal {
  const fake = { isTTY: false, write: (s: string) => void lines.push(s) };
  return fake as unknown as Terminal;
}

describe('progress labels', () => {
  it('drop a leading copy of the stage id', () => {
    assert.equal(
      ownLabel('finetune-icbs', 'finetune-icbs: 1 epoch × 3 steps'),
      '1 epoch × 3 steps',
    );
    assert.equal(ownLabel('prune', 'prune blocks'), 'blocks');
    assert.equal(ownLabel('prune', 'prune'), '');
    assert.equal(ownLabel('prune', 'pruned layers'), 'pruned layers', 'only a whole-word prefix');
    assert.equal(ownLabel('a', 'b: a'), 'b: a');
  });

  it('the console line and the event record name the stage once', () => {
    const lines: string[] = [];
    const records: Record<string, unknown>[] = [];
    const sink = new ProgressSink({
      terminal: fakeTerminal(lines),
      console: true,
      record: (_id, data) => void records.push(data),
      lineIntervalMs: 0,
      eventIntervalMs: 0,
    });
    const p = sink.create('finetune-icbs', 'finetune-icbs: 1 epoch × 3 steps', 3);
    p.tick(1);
    p.done();
    assert.match(lines[0] ?? '', /^finetune-icbs 1 epoch × 3 steps: 1\/3 \(33%\)/);
    for (const l of lines) assert.equal(l.split('finetune-icbs').length - 1, 1, l);
    assert.equal(records[0]?.label, '1 epoch × 3 steps');
  });
});
