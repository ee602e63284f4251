// Lengths of choice strings for acc_norm. EleutherAI describe acc_norm as byte-length
// normalisation; their code divides by Python's len(str), i.e. Unicode code points. The two agree
// on ASCII text, so scalpel defaults to UTF-8 bytes and offers code points to match that code.

export type LengthUnit = 'bytes' | 'characters';

/** Number of bytes of `text` encoded as UTF-8. */
export function utf8ByteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Number of Unicode code points of `text` (what Python's len(str) counts). */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

export function textLength(text: string, unit: LengthUnit): number {
  return unit === 'bytes' ? utf8ByteLength(text) : codePointLength(text);
}
