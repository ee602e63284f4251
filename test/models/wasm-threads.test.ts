// The threaded wasm build (src/models/wasm-threads.ts) against the single-threaded one: each runs
// in a child process (wasm-threads-child.ts), both must match a float64 computation from the
// formulas, and 2 threads must give exactly the bits of 1 (XNNPACK splits the output into tiles;
// every element is still reduced by one thread in one order).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface CaseResult {
  name: string;
  inputs: number[][];
  shape: number[];
  values: number[];
}
interface ChildReport {
  threads: number;
  pthreadsRunning: number;
  leakedTensors: number;
  results: CaseResult[];
}

const childScript = fileURLToPath(new URL('./wasm-threads-child.js', import.meta.url));

function runChild(threads: number): ChildReport {
  const r = spawnSync(process.execPath, [childScript, String(threads)], {
    encoding: 'utf8',
    timeout: 90_000,
  });
  assert.equal(r.signal, null, `child with ${threads} threads did not exit by itself: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as ChildReport;
}

function at(v: readonly number[], i: number): number {
  const x = v[i];
  if (x === undefined) throw new Error(`index ${i} out of range`);
  return x;
}

/** float64 references of every case, from the definitions. */
function reference(c: CaseResult): number[] {
  const [a = [], b = []] = c.inputs;
  const out: number[] = [];
  if (c.name === 'matMul') {
    const [m, k, n] = [67, 45, 53];
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += at(a, i * k + p) * at(b, p * n + j);
        out.push(s);
      }
  } else if (c.name === 'batchMatMulTransposedB') {
    const [batch, m, n, k] = [6, 19, 21, 8];
    for (let q = 0; q < batch; q++)
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += at(a, (q * m + i) * k + p) * at(b, (q * n + j) * k + p);
          out.push(s);
        }
  } else if (c.name === 'conv2d') {
    const [batch, h, w, cin, cout] = [2, 9, 9, 3, 5];
    for (let q = 0; q < batch; q++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let o = 0; o < cout; o++) {
            let s = 0;
            for (let dy = -1; dy <= 1; dy++)
              for (let dx = -1; dx <= 1; dx++) {
                const [yy, xx] = [y + dy, x + dx];
                if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue; // 'same': zero padding
                for (let ch = 0; ch < cin; ch++)
                  s +=
                    at(a, ((q * h + yy) * w + xx) * cin + ch) *
                    at(b, (((dy + 1) * 3 + (dx + 1)) * cin + ch) * cout + o);
              }
            out.push(s);
          }
  } else if (c.name === 'softmax') {
    const [rows, cols] = [37, 23];
    for (let r = 0; r < rows; r++) {
      const row = Array.from({ length: cols }, (_, j) => at(a, r * cols + j));
      const mx = Math.max(...row);
      const e = row.map((v) => Math.exp(v - mx));
      const z = e.reduce((s, v) => s + v, 0);
      out.push(...e.map((v) => v / z));
    }
  } else if (c.name === 'moments') {
    const [rows, cols] = [29, 31];
    const means: number[] = [];
    const vars: number[] = [];
    for (let r = 0; r < rows; r++) {
      const row = Array.from({ length: cols }, (_, j) => at(a, r * cols + j));
      const mean = row.reduce((s, v) => s + v, 0) / cols;
      means.push(mean);
      vars.push(row.reduce((s, v) => s + (v - mean) ** 2, 0) / cols);
    }
    out.push(...means, ...vars);
  } else throw new Error(`no reference for ${c.name}`);
  return out;
}

describe('wasm backend with threads (threaded SIMD build in Node)', function () {
  this.timeout(180_000);
  let one: ChildReport;
  let two: ChildReport;
  before(() => {
    one = runChild(1);
    two = runChild(2);
  });

  it('runs 1 thread on the plain build and 2 on the threaded build, exiting by itself', () => {
    assert.equal(one.threads, 1);
    assert.equal(one.pthreadsRunning, 0, 'one thread starts no pthread');
    assert.equal(two.threads, 2);
    assert.equal(two.pthreadsRunning, 1, 'XNNPACK pool of 2 = the main thread + 1 pthread');
    assert.equal(one.leakedTensors, 0);
    assert.equal(two.leakedTensors, 0);
  });

  it('matMul, batched matMul, conv2d, softmax and moments match float64 at 1 and 2 threads', () => {
    for (const report of [one, two]) {
      for (const c of report.results) {
        const ref = reference(c);
        assert.equal(c.values.length, ref.length, c.name);
        c.values.forEach((v, i) => {
          const r = at(ref, i);
          // float32 accumulation over <= 45 terms of |x| <= 1
          assert.ok(Math.abs(v - r) <= 1e-5 * (1 + Math.abs(r)), `${c.name}[${i}] ${v} vs ${r}`);
        });
      }
    }
  });

  it('gives bitwise the same outputs at 2 threads as at 1', () => {
    assert.equal(two.results.length, one.results.length);
    for (const [i, c] of one.results.entries()) {
      const d = two.results[i];
      assert.deepEqual(d?.inputs, c.inputs, `${c.name}: same inputs`);
      assert.deepEqual(d?.shape, c.shape);
      assert.deepEqual(d?.values, c.values, `${c.name} differs between 1 and 2 threads`);
    }
  });
});
