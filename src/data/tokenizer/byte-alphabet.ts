// GPT-2's byte-level alphabet (`bytes_to_unicode` in openai/gpt-2 encoder.py): every byte gets a
// printable character so that BPE can work on strings without whitespace or control characters.
// Bytes whose Latin-1 character is printable ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves;
// the other 68 bytes, in increasing order, get U+0100, U+0101, … (so space is 'Ġ', '\n' is 'Ċ').

/** True for the bytes that GPT-2 maps to their own Latin-1 character. */
function isSelfMapped(b: number): boolean {
  return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

function buildTable(): readonly string[] {
  const table: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) table.push(String.fromCharCode(isSelfMapped(b) ? b : 256 + n++));
  return Object.freeze(table);
}

/** `BYTE_TO_SYMBOL[b]` is the one-character symbol standing for byte `b`. */
export const BYTE_TO_SYMBOL: readonly string[] = buildTable();

/** The 256 symbols in the order they take in the initial vocabulary: by code point, as GPT-2. */
export const BYTE_SYMBOLS_BY_CODE_POINT: readonly string[] = Object.freeze(
  [...BYTE_TO_SYMBOL].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0)),
);

const SYMBOL_SET: ReadonlySet<string> = new Set(BYTE_TO_SYMBOL);

/** True when `ch` (one UTF-16 unit) is one of the 256 byte symbols. */
export function isByteSymbol(ch: string): boolean {
  return SYMBOL_SET.has(ch);
}

const utf8 = new TextEncoder();

/** The byte-level spelling of `text`: its UTF-8 bytes, each replaced by its symbol. */
export function toByteSymbols(text: string): string {
  let out = '';
  for (const b of utf8.encode(text)) out += BYTE_TO_SYMBOL[b]!;
  return out;
}
