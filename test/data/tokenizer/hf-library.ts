// Typed access to the parts of @huggingface/tokenizers the tests use. Its bundled .d.ts files
// import each other without file extensions, which NodeNext resolution cannot follow, so the
// package's types come through as `any` (or not at all); this file pins the shapes down once.
import * as hf from '@huggingface/tokenizers';

export interface HfTokenizer {
  encode(text: string): { ids: number[]; tokens: string[] };
  decode(ids: number[]): string;
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
  get_vocab(withAddedTokens?: boolean): Map<string, number>;
}

interface HfLibrary {
  Tokenizer: new (tokenizerJson: unknown, tokenizerConfig: unknown) => HfTokenizer;
  ByteLevelDecoder: new (config: { type: 'ByteLevel' }) => { byte_decoder: Record<string, string> };
  ByteLevelPreTokenizer: new (config: { type: 'ByteLevel'; use_regex?: boolean }) => {
    pre_tokenize_text(text: string): string[];
  };
}

const library = hf as unknown as HfLibrary;

/** A tokenizer built by the library from tokenizer.json and tokenizer_config.json objects. */
export function loadHfTokenizer(tokenizerJson: unknown, tokenizerConfig: unknown): HfTokenizer {
  return new library.Tokenizer(tokenizerJson, tokenizerConfig);
}

export const { ByteLevelDecoder, ByteLevelPreTokenizer } = library;
