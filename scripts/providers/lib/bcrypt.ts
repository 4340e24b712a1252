/**
 * bcrypt ($2a$, as Go's golang.org/x/crypto/bcrypt.GenerateFromPassword writes it), for
 * the RandomPassword stand-in's `bcryptHash`. Node has no bcrypt and the project adds no
 * package for it, so this is the algorithm of Provos and Mazières ("A Future-Adaptable
 * Password Scheme", 1999): EksBlowfishSetup(cost, salt, key), then "OrpheanBeholderScryDoubt"
 * encrypted 64 times in ECB mode; 16-byte salt and 23 of the 24 output bytes in bcrypt's
 * own base64 alphabet.
 *
 * Blowfish's initial P-array and S-boxes are the hexadecimal digits of pi's fractional
 * part (Schneier, 1993); rather than a 4 KiB table they are computed once, exactly, with
 * BigInt arithmetic (Machin's formula). The test suite checks hashes against libxcrypt.
 */
import * as crypto from "crypto";

const WORDS = 18 + 4 * 256;
let piWords: Uint32Array | undefined;

/** The first `WORDS` 32-bit words of pi's fractional part. */
function blowfishInit(): Uint32Array {
  if (piWords) return piWords;
  const bits = BigInt(WORDS * 32 + 64); // 64 guard bits
  const one = 1n << bits;
  // arctan(1/x) in fixed point: sum (-1)^k / ((2k+1) x^(2k+1))
  const arctanInv = (x: bigint): bigint => {
    const x2 = x * x;
    let power = one / x;
    let sum = 0n;
    for (let k = 0n; power !== 0n; k++) {
      const term = power / (2n * k + 1n);
      sum = k % 2n === 0n ? sum + term : sum - term;
      power /= x2;
    }
    return sum;
  };
  const pi = 16n * arctanInv(5n) - 4n * arctanInv(239n);
  let frac = (pi - 3n * one) >> 64n; // drop the guard bits: WORDS*32 bits of fraction
  const words = new Uint32Array(WORDS);
  for (let i = WORDS - 1; i >= 0; i--) {
    words[i] = Number(frac & 0xffffffffn);
    frac >>= 32n;
  }
  piWords = words;
  return words;
}

class Blowfish {
  readonly p: Uint32Array;
  readonly s: Uint32Array; // the four S-boxes, 256 words each

  constructor() {
    const init = blowfishInit();
    this.p = init.slice(0, 18);
    this.s = init.slice(18);
  }

  private f(x: number): number {
    const s = this.s;
    return ((((s[x >>> 24] + s[256 | ((x >>> 16) & 0xff)]) ^ s[512 | ((x >>> 8) & 0xff)]) + s[768 | (x & 0xff)]) >>> 0);
  }

  /** Encrypts the block (lr[off], lr[off+1]) in place. */
  encrypt(lr: Uint32Array, off: number): void {
    const p = this.p;
    let l = lr[off];
    let r = lr[off + 1];
    l ^= p[0];
    for (let i = 1; i <= 16; i += 2) {
      r ^= this.f(l >>> 0) ^ p[i];
      l ^= this.f(r >>> 0) ^ p[i + 1];
    }
    r ^= p[17];
    lr[off] = r >>> 0;
    lr[off + 1] = l >>> 0;
  }

  /** Blowfish's key schedule, with bcrypt's salt mixed in when `salt` is given. */
  expand(key: Uint8Array, salt?: Uint8Array): void {
    const p = this.p;
    let kpos = 0;
    const keyWord = (): number => {
      let w = 0;
      for (let i = 0; i < 4; i++) {
        w = ((w << 8) | key[kpos]) >>> 0;
        kpos = (kpos + 1) % key.length;
      }
      return w;
    };
    for (let i = 0; i < 18; i++) p[i] = (p[i] ^ keyWord()) >>> 0;
    let spos = 0;
    const saltWord = (): number => {
      if (!salt) return 0;
      let w = 0;
      for (let i = 0; i < 4; i++) {
        w = ((w << 8) | salt[spos]) >>> 0;
        spos = (spos + 1) % salt.length;
      }
      return w;
    };
    const lr = new Uint32Array(2);
    for (let i = 0; i < 18; i += 2) {
      lr[0] ^= saltWord();
      lr[1] ^= saltWord();
      this.encrypt(lr, 0);
      p[i] = lr[0];
      p[i + 1] = lr[1];
    }
    const s = this.s;
    for (let i = 0; i < 1024; i += 2) {
      lr[0] ^= saltWord();
      lr[1] ^= saltWord();
      this.encrypt(lr, 0);
      s[i] = lr[0];
      s[i + 1] = lr[1];
    }
  }
}

const ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** bcrypt's base64: its own alphabet, no padding. */
export function bcryptBase64Encode(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i];
    const b1 = i + 1 < bytes.length ? bytes[i + 1] : 0;
    const b2 = i + 2 < bytes.length ? bytes[i + 2] : 0;
    out += ALPHABET[b0 >> 2] + ALPHABET[((b0 & 3) << 4) | (b1 >> 4)];
    if (i + 1 < bytes.length) out += ALPHABET[((b1 & 15) << 2) | (b2 >> 6)];
    if (i + 2 < bytes.length) out += ALPHABET[b2 & 63];
  }
  return out;
}

export function bcryptBase64Decode(text: string, length: number): Uint8Array {
  const vals = [...text].map((c) => {
    const v = ALPHABET.indexOf(c);
    if (v < 0) throw new Error(`bcrypt: invalid character ${JSON.stringify(c)} in salt`);
    return v;
  });
  const out = new Uint8Array(length);
  let o = 0;
  for (let i = 0; i < vals.length && o < length; i += 4) {
    const [c0, c1, c2 = 0, c3 = 0] = vals.slice(i, i + 4);
    out[o++] = (c0 << 2) | (c1 >> 4);
    if (o < length && i + 2 < vals.length) out[o++] = ((c1 & 15) << 4) | (c2 >> 2);
    if (o < length && i + 3 < vals.length) out[o++] = ((c2 & 3) << 6) | c3;
  }
  return out;
}

/**
 * The bcrypt hash of `password` with `cost` (4..31) and a 16-byte `salt` (random when
 * omitted), as "$2a$CC$<22 salt chars><31 hash chars>". Like Go's bcrypt, the key is the
 * password's bytes and a NUL, of which at most 72 bytes are used.
 */
export function bcryptHash(password: string | Uint8Array, cost = 10, salt?: Uint8Array): string {
  if (!Number.isInteger(cost) || cost < 4 || cost > 31) throw new Error(`bcrypt: cost ${cost} is outside 4..31`);
  const saltBytes = salt ?? crypto.randomBytes(16);
  if (saltBytes.length !== 16) throw new Error("bcrypt: the salt must be 16 bytes");
  const pw = typeof password === "string" ? Buffer.from(password, "utf8") : Buffer.from(password);
  const key = Buffer.concat([pw, Buffer.from([0])]).subarray(0, 72);

  const bf = new Blowfish();
  bf.expand(key, saltBytes);
  for (let i = 0, rounds = 2 ** cost; i < rounds; i++) {
    bf.expand(key);
    bf.expand(saltBytes);
  }
  const ctext = new Uint32Array(6);
  const magic = Buffer.from("OrpheanBeholderScryDoubt", "latin1");
  for (let i = 0; i < 6; i++) ctext[i] = magic.readUInt32BE(4 * i);
  for (let i = 0; i < 64; i++) for (let j = 0; j < 6; j += 2) bf.encrypt(ctext, j);
  const out = Buffer.alloc(24);
  for (let i = 0; i < 6; i++) out.writeUInt32BE(ctext[i], 4 * i);
  return `$2a$${String(cost).padStart(2, "0")}$${bcryptBase64Encode(saltBytes)}${bcryptBase64Encode(out.subarray(0, 23))}`;
}

/** Hashes `password` with the cost and salt of an existing `$2a$`/`$2b$`/`$2y$` hash (for checks). */
export function bcryptWithSettingsOf(password: string, hash: string): string {
  const m = /^\$2[aby]\$(\d\d)\$([./A-Za-z0-9]{22})/.exec(hash);
  if (!m) throw new Error("bcrypt: not a bcrypt hash");
  return bcryptHash(password, Number(m[1]), bcryptBase64Decode(m[2], 16));
}

/** True when `hash` is the bcrypt hash of `password`. */
export function bcryptVerify(password: string, hash: string): boolean {
  const again = bcryptWithSettingsOf(password, hash);
  return crypto.timingSafeEqual(Buffer.from(again.slice(7)), Buffer.from(hash.slice(7)));
}
