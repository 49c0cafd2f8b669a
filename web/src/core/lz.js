/* lz-string's compressToEncodedURIComponent / decompressFromEncodedURIComponent
 * (lz-string 1.5.0 by pieroxy, WTFPL/MIT; https://github.com/pieroxy/lz-string),
 * trimmed to the URI-safe alphabet. Kept here rather than importing the package for
 * two reasons:
 *   - the decoder is bounded: `maxLength` stops it as soon as the output would be
 *     longer (an LZ code can expand to a long string, so a hostile 64 KiB link
 *     could otherwise decompress to hundreds of megabytes and freeze the page), and
 *     it returns null on any input that is not a complete stream;
 *   - the page needs these two functions only (~0.6 KB gzip instead of ~1.4 KB).
 * The output is byte-for-byte the package's: tests/web/links.test.mjs checks both
 * directions against the `lz-string` package (a devDependency) on arbitrary strings. */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-$';
const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

export function compressToURI(input) {
  // Plain objects and hasOwnProperty, as in the original, so that the output is the
  // same for every input (a key "__proto__" behaves as it does there).
  const dict = {};
  const toCreate = {};
  let w = '';
  let enlargeIn = 2;
  let dictSize = 3;
  let numBits = 2;
  const out = [];
  let val = 0;
  let pos = 0;
  const write = (value, bits) => {  // least significant bit first
    for (let i = 0; i < bits; i++) {
      val = (val << 1) | (value & 1);
      if (pos === 5) {
        pos = 0;
        out.push(ALPHABET[val]);
        val = 0;
      } else pos++;
      value >>= 1;
    }
  };
  const grow = () => {
    if (--enlargeIn === 0) {
      enlargeIn = 2 ** numBits;
      numBits++;
    }
  };
  const emit = () => {
    if (has(toCreate, w)) {
      const code = w.charCodeAt(0);
      write(code < 256 ? 0 : 1, numBits);
      write(code, code < 256 ? 8 : 16);
      grow();
      delete toCreate[w];
    } else {
      write(dict[w], numBits);
    }
    grow();
  };
  for (let i = 0; i < input.length; i++) {
    const c = input.charAt(i);
    if (!has(dict, c)) {
      dict[c] = dictSize++;
      toCreate[c] = true;
    }
    const wc = w + c;
    if (has(dict, wc)) {
      w = wc;
    } else {
      emit();
      dict[wc] = dictSize++;
      w = c;
    }
  }
  if (w !== '') emit();
  write(2, numBits);
  for (;;) {
    val <<= 1;
    if (pos === 5) {
      out.push(ALPHABET[val]);
      break;
    }
    pos++;
  }
  return out.join('');
}

/* The text, or null: not in the alphabet, corrupt, incomplete (no end marker), or
 * longer than maxLength UTF-16 units. Never throws; work is bounded by the input's
 * length and maxLength. */
export function decompressFromURI(input, maxLength = Infinity) {
  if (typeof input !== 'string' || input === '') return null;
  const values = new Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const v = ALPHABET.indexOf(input[i] === ' ' ? '+' : input[i]);
    if (v < 0) return null;
    values[i] = v;
  }
  let val = values[0];
  let position = 32;
  let index = 1;
  const read = (n) => {
    let bits = 0;
    for (let i = 0, power = 1; i < n; i++, power *= 2) {
      const set = val & position;
      position >>= 1;
      if (position === 0) {
        position = 32;
        val = values[index++] | 0;
      }
      if (set) bits += power;
    }
    return bits;
  };
  const dict = [0, 1, 2];
  let enlargeIn = 4;
  let dictSize = 4;
  let numBits = 3;
  const first = read(2);
  if (first === 2) return '';
  if (first === 3) return null;
  const c0 = String.fromCharCode(read(first ? 16 : 8));
  dict[3] = c0;
  let w = c0;
  const result = [c0];
  let length = 1;
  if (length > maxLength) return null;
  for (;;) {
    if (index > values.length) return null;  // ran out of input before the end marker
    let code = read(numBits);
    if (code === 0 || code === 1) {
      dict[dictSize++] = String.fromCharCode(read(code ? 16 : 8));
      code = dictSize - 1;
      enlargeIn--;
    } else if (code === 2) {
      return result.join('');
    }
    if (enlargeIn === 0) {
      enlargeIn = 2 ** numBits;
      numBits++;
    }
    let entry;
    if (code < dictSize && typeof dict[code] === 'string') entry = dict[code];
    else if (code === dictSize) entry = w + w.charAt(0);
    else return null;
    length += entry.length;
    if (length > maxLength) return null;
    result.push(entry);
    dict[dictSize++] = w + entry.charAt(0);
    enlargeIn--;
    w = entry;
    if (enlargeIn === 0) {
      enlargeIn = 2 ** numBits;
      numBits++;
    }
  }
}
