// The sentence splitter's documented rules, one case each.
import { strict as assert } from 'node:assert';
import { splitSentences } from '../../src/eval/sentences.js';

describe('eval: sentence splitter', () => {
  it('ends sentences at . ! ? runs followed by space or the end, keeping closing quotes', () => {
    assert.deepEqual(splitSentences('It rained. Was it cold? Yes!! "Go home." She went.'), [
      'It rained.',
      'Was it cold?',
      'Yes!!',
      '"Go home."',
      'She went.',
    ]);
  });

  it('does not end a sentence before a lowercase letter, after abbreviations or initials, or inside numbers', () => {
    assert.deepEqual(
      splitSentences('Mr. Grey met Dr. Brown at St. Paul. He paid 3.50 for tea, e.g. green tea.'),
      ['Mr. Grey met Dr. Brown at St. Paul.', 'He paid 3.50 for tea, e.g. green tea.'],
    );
    assert.deepEqual(splitSentences('J. R. Smith wrote it. "Why?" he asked. Done.'), [
      'J. R. Smith wrote it.',
      '"Why?" he asked.',
      'Done.',
    ]);
  });

  it('a blank line ends a sentence; other whitespace runs become one space', () => {
    assert.deepEqual(
      splitSentences('  CHAPTER ONE\n\nThe door\nwas   open.\r\n\r\nNobody came\n'),
      ['CHAPTER ONE', 'The door was open.', 'Nobody came'],
    );
    assert.deepEqual(splitSentences(' \n\n '), []);
  });
});
