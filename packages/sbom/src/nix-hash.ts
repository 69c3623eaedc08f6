/**
 * Conversions between the hash encodings Nix prints (`sha256:<nix base32>`,
 * SRI `sha256-<base64>`, plain hex) and the lowercase hex that CycloneDX wants.
 */

// Nix's base32 alphabet: 0-9 and a-z without e, o, u, t (to avoid words).
const NIX32_ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';
// Character code -> digit value, -1 for characters outside the alphabet.
const NIX32_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < NIX32_ALPHABET.length; i++) NIX32_VALUE[NIX32_ALPHABET.charCodeAt(i)] = i;
const SHA256_BYTES = 32;

/** Length of the Nix base32 form of `bytes` bytes. */
function nix32Length(bytes: number): number {
  return Math.ceil((bytes * 8) / 5);
}

/**
 * Nix base32 is not RFC 4648: the string is read from its last character to its
 * first, each character carrying the next 5 bits of the hash from its least
 * significant end.
 */
export function nix32Decode(text: string, bytes = SHA256_BYTES): Uint8Array {
  if (text.length !== nix32Length(bytes)) {
    throw new RangeError(`a ${bytes}-byte hash is ${nix32Length(bytes)} base32 characters, got ${text.length}`);
  }
  const out = new Uint8Array(bytes);
  for (let n = 0; n < text.length; n++) {
    const code = text.charCodeAt(text.length - 1 - n);
    const digit = code < 128 ? NIX32_VALUE[code]! : -1;
    if (digit < 0) throw new RangeError(`"${text[text.length - 1 - n]}" is not a Nix base32 character`);
    const bit = n * 5;
    const i = bit >> 3;
    const j = bit & 7;
    out[i]! |= (digit << j) & 0xff;
    const carry = digit >> (8 - j);
    if (i + 1 < bytes) out[i + 1]! |= carry;
    else if (carry !== 0) throw new RangeError(`base32 hash ${text} overflows ${bytes} bytes`);
  }
  return out;
}

export function nix32Encode(hash: Uint8Array): string {
  const len = nix32Length(hash.length);
  let s = '';
  for (let n = len - 1; n >= 0; n--) {
    const bit = n * 5;
    const i = bit >> 3;
    const j = bit & 7;
    const lo = hash[i]! >> j;
    const hi = i + 1 < hash.length ? hash[i + 1]! << (8 - j) : 0;
    s += NIX32_ALPHABET[(lo | hi) & 0x1f];
  }
  return s;
}

/** Raw bytes of a sha256 given in any form Nix prints; throws RangeError naming the form. */
export function sha256Bytes(hash: string): Uint8Array {
  const sri = /^sha256-([A-Za-z0-9+/]{43}=)$/.exec(hash);
  if (sri) return new Uint8Array(Buffer.from(sri[1]!, 'base64'));
  const body = hash.startsWith('sha256:') ? hash.slice('sha256:'.length) : undefined;
  if (body !== undefined) {
    if (/^[0-9a-f]{64}$/.test(body)) return new Uint8Array(Buffer.from(body, 'hex'));
    if (body.length === nix32Length(SHA256_BYTES)) return nix32Decode(body);
  }
  throw new RangeError(`"${hash}" is not a sha256 hash in Nix base32 (sha256:...), hex (sha256:...) or SRI (sha256-...) form`);
}

/** Lowercase hex of a sha256 given as `sha256:<nix32|hex>` or `sha256-<base64>`. */
export function nixHashToHex(hash: string): string {
  return Buffer.from(sha256Bytes(hash)).toString('hex');
}

/** The narinfo spelling of a sha256: `sha256:<nix base32>`. */
export function sha256Narinfo(hash: string): string {
  return `sha256:${nix32Encode(sha256Bytes(hash))}`;
}
