// The streamed safetensors writer: the same bytes as writeSafetensors for the same tensors, each
// tensor's values made once and only when the writer reaches it (file order: F32 before BF16/F16,
// then by name), and a values() of the wrong length refused as a caller bug with no file left.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isScalpelError } from '../../../src/errors.js';
import {
  writeSafetensors,
  writeSafetensorsStreamed,
  type TensorToWrite,
} from '../../../src/models/hf/safetensors.js';
import { Rng } from '../../../src/util/rng.js';
import { tempDir } from '../../helpers/paths.js';

function tensors(): TensorToWrite[] {
  const rng = new Rng(5);
  const t = (name: string, shape: number[], dtype?: 'F16' | 'BF16'): TensorToWrite => ({
    name,
    shape,
    data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
    ...(dtype !== undefined ? { dtype } : {}),
  });
  return [t('b', [3, 2]), t('a', [4], 'BF16'), t('c.weight', [2, 2, 2]), t('d', [5], 'F16')];
}

describe('safetensors: streamed writer', () => {
  it('writes the bytes writeSafetensors writes, making each tensor once, in file order', async () => {
    const dir = tempDir();
    const ts = tensors();
    await writeSafetensors(join(dir, 'whole.safetensors'), ts, { format: 'pt' });
    const made: string[] = [];
    await writeSafetensorsStreamed(
      join(dir, 'streamed.safetensors'),
      ts.map(({ data, ...rest }) => ({
        ...rest,
        values: () => {
          made.push(rest.name);
          return data;
        },
      })),
      { format: 'pt' },
    );
    assert.deepEqual(made, ['b', 'c.weight', 'a', 'd']);
    assert.ok(
      readFileSync(join(dir, 'streamed.safetensors')).equals(
        readFileSync(join(dir, 'whole.safetensors')),
      ),
    );
  });

  it('refuses values() that do not fit the shape, leaving no file', async () => {
    const dir = tempDir();
    const path = join(dir, 'bad.safetensors');
    await assert.rejects(
      writeSafetensorsStreamed(path, [
        { name: 'x', shape: [2, 3], values: () => new Float32Array(5) },
      ]),
      (e: unknown) => {
        assert.ok(isScalpelError(e));
        assert.equal(e.code, 'E_INTERNAL');
        assert.match(e.message, /'x' has shape \[2, 3\] but 5 values/);
        return true;
      },
    );
    assert.equal(existsSync(path), false);
    assert.deepEqual(readdirSync(dir), []);
  });
});
