// onnx_crossings/data/imdb.py's clean_review and encode, ported to JavaScript: the browser must feed the model the
// same word ids as Python. tests/test_web_browser.py checks both on real reviews and on every character.

// Python's \s and [^\W_] (letters and digits of every script), written out: JavaScript's \s and \w differ.
export const SPACE = "[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
export const WORD_CHARACTER = "[\\p{L}\\p{N}]";
const LINE_BREAK = new RegExp(`<br${SPACE}*/?>`, "giu");
const APOSTROPHES = /[\u2019\u00b4`]/g;
const WORD = new RegExp(`${WORD_CHARACTER}+(?:'${WORD_CHARACTER}+)*`, "gu");
const FORMAT_VERSION = 1;

/** Lowercase, drop <br> tags, keep words of letters/digits with inner apostrophes, single-spaced. */
export function cleanReview(text) {
  const lowered = text.replace(LINE_BREAK, " ").toLowerCase().replace(APOSTROPHES, "'");
  return (lowered.match(WORD) ?? []).join(" ");
}

/** The preprocessing file chapter 2 wrote, refused when its version or rules are not the ones ported here. */
export function checkedPreprocessing(settings) {
  const expected = { format_version: FORMAT_VERSION, padding: "pre", truncating: "pre" };
  for (const [key, value] of Object.entries(expected)) {
    if (settings[key] !== value) {
      throw new Error(`preprocessing file: ${key} is ${settings[key]}, this page applies ${value}`);
    }
  }
  if (!settings.cleaning.startsWith("clean_review v1")) {
    throw new Error(`preprocessing file: cleaning "${settings.cleaning}" is not the one ported here`);
  }
  return { ...settings, vocabulary: new Map(Object.entries(settings.vocabulary)) };
}

/** Word ids of a review, pre-padded and pre-truncated to sequence_length, and the words the vocabulary lacks. */
export function encode(text, settings) {
  const length = settings.sequence_length;
  const words = cleanReview(text).split(" ").filter(Boolean).slice(-length);
  const ids = new Int32Array(length).fill(settings.padding_id);
  const unknownWords = new Set();
  words.forEach((word, position) => {
    const id = settings.vocabulary.get(word);
    if (id === undefined) unknownWords.add(word);
    ids[length - words.length + position] = id ?? settings.oov_id;
  });
  const unknown = ids.filter((id) => id === settings.oov_id).length;
  return { ids, known: words.length - unknown, unknown, unknownWords: [...unknownWords] };
}
