// safetensors files assembled byte by byte from the format description (u64 LE header length,
// JSON header, raw data), with no help from the code under test, so tests can read files the
// reader never wrote and corrupt them in exactly one way at a time.

/** The bytes of a file: `header` (JSON text or raw bytes, used verbatim) and `data`, prefixed by N. */
export function assemble(
  header: string | Uint8Array,
  data: Uint8Array,
  opts: { declaredLength?: bigint } = {},
): Uint8Array {
  const h = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, opts.declaredLength ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** Little-endian float32 bytes of `values`. */
export function f32Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => dv.setFloat32(4 * i, v, true));
  return out;
}

/** Little-endian 16-bit patterns. */
export function u16Bytes(patterns: readonly number[]): Uint8Array {
  const out = new Uint8Array(2 * patterns.length);
  const dv = new DataView(out.buffer);
  patterns.forEach((v, i) => dv.setUint16(2 * i, v, true));
  return out;
}

/** Little-endian float64 bytes. */
export function f64Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(8 * values.length);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => dv.setFloat64(8 * i, v, true));
  return out;
}

/** Little-endian int64 bytes. */
export function i64Bytes(values: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(8 * values.length);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => dv.setBigInt64(8 * i, v, true));
  return out;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The header length, the parsed header and the data bytes of a file (read back by hand). */
export function disassemble(bytes: Uint8Array): {
  headerLength: number;
  headerText: string;
  header: Record<string, unknown>;
  data: Uint8Array;
} {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  return {
    headerLength: n,
    headerText,
    header: JSON.parse(headerText) as Record<string, unknown>,
    data: new Uint8Array(bytes.subarray(8 + n)), // a plain copy, even from a Buffer
  };
}
