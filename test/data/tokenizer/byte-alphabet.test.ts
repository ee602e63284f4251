import { strict as assert } from 'node:assert';
import {
  BYTE_SYMBOLS_BY_CODE_POINT,
  BYTE_TO_SYMBOL,
  isByteSymbol,
  toByteSymbols,
} from '../../../src/data/tokenizer/byte-alphabet.js';
import { ByteLevelDecoder, ByteLevelPreTokenizer } from './hf-library.js';
import { referenceBytesToUnicode } from './reference-bpe.js';

describe('byte-level alphabet (bytes_to_unicode)', () => {
  it('maps printable Latin-1 bytes to themselves and the others to 256 + n in byte order', () => {
    let n = 0;
    for (let b = 0; b < 256; b++) {
      const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      const expected = printable ? b : 256 + n++;
      assert.equal(BYTE_TO_SYMBOL[b]!.length, 1);
      assert.equal(BYTE_TO_SYMBOL[b]!.charCodeAt(0), expected, `byte ${b}`);
    }
    assert.equal(n, 68, '68 bytes are not printable');
    assert.equal(new Set(BYTE_TO_SYMBOL).size, 256, 'a bijection');
    // Spellings every GPT-2 vocabulary shows: space, newline, tab, NUL, DEL, soft hyphen.
    assert.equal(BYTE_TO_SYMBOL[0x20], 'Ġ');
    assert.equal(BYTE_TO_SYMBOL[0x0a], 'Ċ');
    assert.equal(BYTE_TO_SYMBOL[0x09], 'ĉ');
    assert.equal(BYTE_TO_SYMBOL[0x00], 'Ā');
    assert.equal(BYTE_TO_SYMBOL[0x7f], 'ġ');
    assert.equal(BYTE_TO_SYMBOL[0xad], 'Ń');
  });

  it('equals encoder.py transcribed and the table @huggingface/tokenizers decodes with', () => {
    const reference = referenceBytesToUnicode();
    const decoder = new ByteLevelDecoder({ type: 'ByteLevel' });
    for (let b = 0; b < 256; b++) {
      assert.equal(BYTE_TO_SYMBOL[b], reference.get(b), `byte ${b}`);
      assert.equal(Number(decoder.byte_decoder[BYTE_TO_SYMBOL[b]!]), b, `byte ${b}`);
    }
  });

  it('orders the initial vocabulary by code point: printable bytes first, as GPT-2 does', () => {
    assert.equal(BYTE_SYMBOLS_BY_CODE_POINT.length, 256);
    assert.equal(BYTE_SYMBOLS_BY_CODE_POINT[0], '!');
    assert.equal(BYTE_SYMBOLS_BY_CODE_POINT[93], '~');
    assert.equal(BYTE_SYMBOLS_BY_CODE_POINT[188], 'Ā');
    assert.equal(BYTE_SYMBOLS_BY_CODE_POINT[220], 'Ġ', "GPT-2's id of 'Ġ' is 220");
    assert.equal(BYTE_SYMBOLS_BY_CODE_POINT[255], 'Ń');
  });

  it('spells text by its UTF-8 bytes, like the library pre-tokenizer', () => {
    assert.equal(toByteSymbols(' é\n'), 'ĠÃ©Ċ');
    assert.equal(toByteSymbols('😀'), 'ðŁĺĢ');
    const pre = new ByteLevelPreTokenizer({ type: 'ByteLevel', use_regex: false });
    const text = 'a\u0000 ß 漢 👨‍👩‍👧 \u00ad\u007f';
    assert.deepEqual(pre.pre_tokenize_text(text), [toByteSymbols(text)]);
    assert.ok(isByteSymbol('Ġ') && isByteSymbol('a') && !isByteSymbol(' ') && !isByteSymbol('漢'));
  });
});
