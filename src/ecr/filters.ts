/** Selection of ECR images: `--pushed-since`, `--shard`, name/tag globs. */
import { createHash } from 'node:crypto';
import picomatch from 'picomatch';
import { InputError } from '../engine/types.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * `--pushed-since`: a duration back from `now` (`90m`, `12h`, `7d`, `2w`) or a date / date-time
 * (`2026-01-01`, `2026-01-01T12:00:00Z`). A date alone is midnight UTC.
 */
export function parsePushedSince(value: string, now = Date.now()): Date {
  const v = value.trim();
  const d = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(v);
  if (d) return new Date(now - Number.parseFloat(d[1]) * UNIT_MS[d[2].toLowerCase()]);
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const t = Date.parse(`${v}T00:00:00Z`);
    if (!Number.isNaN(t)) return new Date(t);
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(v)) {
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return new Date(t);
  }
  throw new InputError(`--pushed-since ${value}: expected a duration (30m, 12h, 7d, 2w) or a date (2026-01-01, 2026-01-01T12:00:00Z)`);
}

export interface Shard {
  index: number;
  count: number;
}

/** `--shard i/n`, 1-based: `1/4` is the first of four shards. */
export function parseShard(value: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) throw new InputError(`--shard ${value}: expected i/n with 1 <= i <= n (e.g. 1/4)`);
  return { index, count };
}

/** The shard (1-based) an image belongs to: a stable hash of repository and digest. */
export function shardOf(repository: string, digest: string, count: number): number {
  const h = createHash('sha256').update(`${repository}@${digest}`).digest();
  return (h.readUInt32BE(0) % count) + 1;
}

/** A matcher for names or tags: globs (picomatch) or exact names; empty list = everything. */
export function globMatcher(globs: string[]): (name: string) => boolean {
  if (!globs.length) return () => true;
  const m = picomatch(globs, { dot: true });
  return (name) => m(name);
}

export function isGlob(s: string): boolean {
  return picomatch.scan(s).isGlob;
}
