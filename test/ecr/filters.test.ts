import { describe, expect, it } from 'vitest';
import { globMatcher, isGlob, parsePushedSince, parseShard, shardOf } from '../../src/ecr/filters.js';
import { InputError } from '../../src/engine/types.js';

describe('ecr filters', () => {
  const now = Date.parse('2026-03-10T12:00:00Z');

  it('--pushed-since takes durations and dates', () => {
    expect(parsePushedSince('7d', now).toISOString()).toBe('2026-03-03T12:00:00.000Z');
    expect(parsePushedSince('12h', now).toISOString()).toBe('2026-03-10T00:00:00.000Z');
    expect(parsePushedSince('90m', now).toISOString()).toBe('2026-03-10T10:30:00.000Z');
    expect(parsePushedSince('2w', now).toISOString()).toBe('2026-02-24T12:00:00.000Z');
    expect(parsePushedSince('2026-01-01', now).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(parsePushedSince('2026-01-01T06:30:00+02:00', now).toISOString()).toBe('2026-01-01T04:30:00.000Z');
    for (const bad of ['7', 'yesterday', '2026-13-45', '7y', '']) expect(() => parsePushedSince(bad, now)).toThrow(InputError);
  });

  it('--shard i/n is 1-based and checked', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['0/4', '5/4', '1/0', '1', 'a/b', '-1/2']) expect(() => parseShard(bad)).toThrow(InputError);
  });

  it('shards are stable and roughly balanced', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) {
      const s = shardOf(`repo${i % 7}`, `sha256:${i.toString(16).padStart(64, '0')}`, 4);
      expect(s).toBe(shardOf(`repo${i % 7}`, `sha256:${i.toString(16).padStart(64, '0')}`, 4));
      counts[s - 1]++;
    }
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });

  it('globs for repositories and tags', () => {
    expect(globMatcher([])('anything')).toBe(true);
    const m = globMatcher(['ml/*', 'v1.*']);
    expect(['ml/a', 'v1.2', 'ml/a/b', 'v2'].map(m)).toEqual([true, true, false, false]);
    expect([isGlob('team/*'), isGlob('team/alpha'), isGlob('v[0-9]')]).toEqual([true, false, true]);
  });
});
