import { createHash, type Hash } from 'node:crypto';
import { InputError } from '../../engine/types.js';

const HEX = { sha256: /^[a-f0-9]{64}$/, sha512: /^[a-f0-9]{128}$/ } as const;
export type DigestAlgorithm = keyof typeof HEX;

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

/**
 * Parses `sha256:<64 hex>` (or sha512). Strict, because digests become file names
 * (`blobs/sha256/<hex>` in OCI layouts) and URL paths: anything else is an InputError.
 */
export function parseDigest(digest: unknown, what = 'digest'): ParsedDigest {
  if (typeof digest !== 'string') throw new InputError(`${what} is missing or not a string`);
  const i = digest.indexOf(':');
  const algorithm = digest.slice(0, i) as DigestAlgorithm;
  const hex = digest.slice(i + 1);
  if (i < 0 || !(algorithm in HEX)) throw new InputError(`unsupported ${what} "${digest.slice(0, 80)}" (only sha256/sha512)`);
  if (!HEX[algorithm].test(hex)) throw new InputError(`malformed ${what} "${digest.slice(0, 80)}"`);
  return { algorithm, hex };
}

export function isDigest(s: string): boolean {
  return /^sha256:[a-f0-9]{64}$/.test(s) || /^sha512:[a-f0-9]{128}$/.test(s);
}

export function sha256(buf: Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(buf).digest('hex');
}

export function digestOf(buf: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:` + createHash(algorithm).update(buf).digest('hex');
}

/** Incremental digest check: feed every byte, then `check()` before trusting anything read. */
export class DigestVerifier {
  private readonly hash: Hash;
  private readonly parsed: ParsedDigest;
  bytes = 0;
  constructor(readonly expected: string) {
    this.parsed = parseDigest(expected);
    this.hash = createHash(this.parsed.algorithm);
  }
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }
  /** The digest of what was fed. Call once. */
  actual(): string {
    return `${this.parsed.algorithm}:${this.hash.digest('hex')}`;
  }
}

/** Thrown when content does not hash to the digest that named it. Never retried. */
export class DigestMismatchError extends InputError {
  constructor(
    readonly what: string,
    readonly expected: string,
    readonly actualDigest: string,
  ) {
    super(`${what}: content digest ${actualDigest} does not match expected ${expected} (corrupt or tampered data)`);
  }
}

/**
 * Passes chunks through while hashing them; at the end throws DigestMismatchError (and, if
 * `expectedSize` is given, a size error) so a consumer never finishes on unverified bytes.
 */
export async function* verifyStream(
  src: AsyncIterable<Uint8Array>,
  expected: string,
  what: string,
  expectedSize?: number,
): AsyncGenerator<Buffer> {
  const v = new DigestVerifier(expected);
  for await (const chunk of src) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    v.update(b);
    if (expectedSize !== undefined && expectedSize >= 0 && v.bytes > expectedSize) {
      throw new InputError(`${what}: more data than the declared size of ${expectedSize} bytes`);
    }
    yield b;
  }
  const actual = v.actual();
  if (actual !== expected) throw new DigestMismatchError(what, expected, actual);
  if (expectedSize !== undefined && expectedSize >= 0 && v.bytes !== expectedSize) {
    throw new InputError(`${what}: ${v.bytes} bytes read but the descriptor declares ${expectedSize}`);
  }
}

/** Reads a whole (small) verified blob into memory, refusing more than `maxBytes`. */
export async function collect(src: AsyncIterable<Uint8Array>, maxBytes: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of src) {
    n += chunk.length;
    if (n > maxBytes) throw new InputError(`${what} is larger than ${maxBytes} bytes, refusing to read it`);
    parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  }
  return Buffer.concat(parts);
}
