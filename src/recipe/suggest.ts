// Moved to src/util/suggest.ts (the error factories below every folder need it). This re-export
// keeps the recipe, engine and report modules that import it from here compiling while those
// folders are being reorganised; import from util/suggest.js in new code.
export { closest, suggestionHint } from '../util/suggest.js';
