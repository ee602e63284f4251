// A hand-built byte-level BPE tokenizer.json for tests: the 256 GPT-2 byte symbols with id =
// byte value, three merges (t h → th 256, th e → the 257, Ġ the → Ġthe 258), and the special
// tokens <|endoftext|> 259 and <s> 260. So a text's ids are its UTF-8 bytes, except that "the"
// inside a word is 257 and a word starting with " the" begins with 258.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** GPT-2's reversible byte → printable character table. */
export function byteSymbols(): string[] {
  const direct: number[] = [];
  for (let b = 33; b <= 126; b++) direct.push(b);
  for (let b = 161; b <= 172; b++) direct.push(b);
  for (let b = 174; b <= 255; b++) direct.push(b);
  const symbols: string[] = new Array<string>(256);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    symbols[b] = String.fromCodePoint(direct.includes(b) ? b : 256 + shifted++);
  }
  return symbols;
}

export const THE = 257;
export const SPACE_THE = 258;
export const EOS = 259;
export const BOS = 260;

export function tinyTokenizerJson(): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  byteSymbols().forEach((s, b) => (vocab[s] = b));
  vocab['th'] = 256;
  vocab['the'] = THE;
  vocab['Ġthe'] = SPACE_THE;
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: '1.0',
    added_tokens: [special(EOS, '<|endoftext|>'), special(BOS, '<s>')],
    normalizer: null,
    pre_tokenizer: {
      type: 'ByteLevel',
      add_prefix_space: false,
      trim_offsets: true,
      use_regex: true,
    },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: ['t h', 'th e', 'Ġ the'],
    },
  };
}

/** Write the tiny tokenizer (and, if given, a tokenizer_config.json) into `dir`; returns the tokenizer.json path. */
export function writeTinyTokenizer(dir: string, config?: Record<string, unknown>): string {
  const path = join(dir, 'tokenizer.json');
  writeFileSync(path, JSON.stringify(tinyTokenizerJson()));
  if (config !== undefined)
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  return path;
}
