import { describe, expect, it } from 'vitest';
import { parseSize, parseStats } from '../../src/harness/engine.js';
import { INSTANCE_TYPES } from '../../src/harness/instance-types.js';
import { parsePortRange, parseProcNetTcp, planPorts, usedLocalPorts } from '../../src/harness/ports.js';
import { ContainerEngine, flavorOf } from '../../src/harness/engine.js';
import { InputError } from '../../src/engine/types.js';

describe('parseProcNetTcp', () => {
  it('decodes IPv4 and IPv6 rows', () => {
    const v4 = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0',
      '   1: 00000000:07E8 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0000000000000000 100 0 0 10 0',
    ].join('\n');
    expect(parseProcNetTcp(v4, 'tcp')).toEqual([
      { localAddress: '127.0.0.1', localPort: 8080, state: 10, inode: 12345, family: 'tcp' },
      { localAddress: '0.0.0.0', localPort: 2024, state: 1, inode: 222, family: 'tcp' },
    ]);
    const v6 = [
      '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000000000000000000000000000:49B0 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0',
      '   1: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 778 1 0000000000000000 100 0 0 10 0',
    ].join('\n');
    expect(parseProcNetTcp(v6, 'tcp6').map((r) => [r.localAddress, r.localPort, r.inode])).toEqual([
      ['::', 18864, 777],
      ['::1', 80, 778],
    ]);
  });
});

describe('stats parsing', () => {
  it('reads podman and docker shapes', () => {
    expect(parseSize('237.6kB')).toBe(237600);
    expect(parseSize('1.5MiB')).toBe(1572864);
    expect(parseSize('0B')).toBe(0);
    expect(parseStats('[{"cpu_percent":"3.46%","mem_usage":"237.6kB / 536.9MB"}]')).toEqual({
      cpuPercent: 3.46,
      memoryBytes: 237600,
      memoryLimitBytes: 536900000,
    });
    expect(parseStats('{"CPUPerc":"12.50%","MemUsage":"1.5MiB / 1GiB"}\n')).toEqual({
      cpuPercent: 12.5,
      memoryBytes: 1572864,
      memoryLimitBytes: 1073741824,
    });
    expect(parseStats('')).toBeUndefined();
  });
});

describe('port planning', () => {
  it('never assigns 8080 and picks a range with no port in use', async () => {
    // Ports come and go while other tests run: check each plan against the ports it was given.
    for (let i = 0; i < 20; i++) {
      let used = new Set<number>();
      const plan = await planPorts({ usedPorts: () => (used = usedLocalPorts()) });
      expect(used.size).toBeGreaterThan(0);
      const [lo, hi] = plan.safeRange;
      expect(plan.bindPort).not.toBe(8080);
      expect(hi - lo).toBe(999);
      expect(8080 >= lo && 8080 <= hi).toBe(false);
      expect(plan.bindPort >= lo && plan.bindPort <= hi).toBe(false);
      for (const u of used) expect(u >= lo && u <= hi).toBe(false);
    }
  });
  it('keeps the bind port and the safe range clear of every port it is told is in use', async () => {
    // Every 7th port of 10000-59999 is taken but for a window of 5000: a 1000-port range fits only
    // there, so each plan shows whether the planner checked every port.
    const used = new Set<number>();
    for (let p = 10_000; p < 60_000; p += 7) used.add(p);
    for (let p = 20_000; p < 25_000; p++) used.delete(p);
    for (let i = 0; i < 20; i++) {
      const plan = await planPorts({ usedPorts: () => used });
      const [lo, hi] = plan.safeRange;
      expect(used.has(plan.bindPort)).toBe(false);
      // Only the free window (and the few free ports at its edges) holds 1000 ports in a row.
      expect(hi - lo).toBe(999);
      expect([...used].filter((u) => u >= lo && u <= hi)).toEqual([]);
    }
  });
  it('rejects a bad explicit range', async () => {
    await expect(planPorts({ safePortRange: [3000, 2000] })).rejects.toThrow(InputError);
  });
  it('parses XXXX-YYYY', () => {
    expect(parsePortRange('10000-10999')).toEqual([10000, 10999]);
    expect(parsePortRange('10-5')).toBeUndefined();
    expect(parsePortRange('abc')).toBeUndefined();
  });
});

describe('engine detection', () => {
  it('honours SMCL_ENGINE and reports a missing engine as InputError', () => {
    expect(() => ContainerEngine.detect(undefined, { SMCL_ENGINE: 'smcl-no-such-engine' })).toThrow(InputError);
    expect(flavorOf('/usr/local/bin/docker')).toBe('docker');
    expect(flavorOf('podman')).toBe('podman');
  });
  it('knows the instance sizes', () => {
    expect(INSTANCE_TYPES.get('ml.c6g.xlarge')).toMatchObject({ arch: 'arm64', vcpus: 4 });
    expect(INSTANCE_TYPES.get('ml.m5.large')).toMatchObject({ memoryGiB: 8 });
  });
});
