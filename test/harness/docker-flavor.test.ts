/**
 * The docker side of the engine driver. No Docker daemon runs on these machines, so the engine
 * here is an executable named `docker` that hands its arguments to podman, whose CLI accepts
 * docker's syntax and Go-template formats. smcl picks the docker flavour from the name, so this
 * runs smcl's docker code paths (argument forms, `stats --format '{{json .}}'` lines, inspect
 * formats) end to end; what it cannot show is a real Docker daemon's output.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { endpointUp, planFromImages, RUN_LABEL } from '../../src/endpoint/emulator/index.js';
import { bootImage } from '../../src/harness/index.js';
import { flavorOf } from '../../src/harness/engine.js';
import { buildFixtureFromDir } from '../support/fixture-images.js';
import { requirePodman } from '../support/podman.js';
import { tempTree } from '../support/tmp.js';

const execFileP = promisify(execFile);

describe.skipIf(!requirePodman())('docker flavour of the engine driver (a docker CLI shim over podman)', () => {
  let docker = '';
  let good = '';
  let echo = '';
  beforeAll(async () => {
    const dir = tempTree({ docker: { content: '#!/bin/sh\nexec podman "$@"\n', mode: 0o755 } });
    docker = path.join(dir, 'docker');
    expect(fs.statSync(docker).mode & 0o111).not.toBe(0);
    good = await buildFixtureFromDir('good');
    echo = await buildFixtureFromDir('mce-echo');
  }, 300_000);

  it('is chosen by the executable name', () => {
    expect(flavorOf(docker)).toBe('docker');
  });

  it('smcl boot: healthy, stats parsed from docker-style JSON lines, container removed', async () => {
    const r = await bootImage({ image: good, engine: docker, pull: 'never', handleSignals: false, instanceType: 'ml.t2.medium' });
    expect(r.engine).toBe(docker);
    expect(r.findings).toEqual([]);
    expect(r.metrics.invocation).toMatchObject({ status: 200 });
    expect(r.metrics.peakMemoryBytes).toBeGreaterThan(0);
    expect(r.metrics.listeningPorts.map((p) => p.port)).toEqual([r.container.bindPort]);
    const { stdout } = await execFileP('podman', ['ps', '-a', '--filter', `name=${r.container.name}`, '--format', '{{.Names}}']);
    expect(stdout.trim()).toBe('');
  }, 120_000);

  it('smcl endpoint up: two containers answer, memory sampled per container, all removed', async () => {
    const ep = await endpointUp({ plan: planFromImages([`one=${echo}`, `two=${echo}`], { endpointName: 'docker-flavour' }), engine: docker, pull: 'never', statsInterval: 1, healthInterval: 0 });
    try {
      const res = await fetch(`${ep.url}/endpoints/docker-flavour/invocations`, { method: 'POST', headers: { 'X-Amzn-SageMaker-Target-Container-Hostname': 'two', 'Content-Type': 'text/plain' }, body: 'hi' });
      expect(await res.text()).toBe('two <- hi');
      let mem: Array<number | undefined> = [];
      for (let i = 0; i < 150 && !(mem.length && mem.every((m) => m !== undefined)); i++) {
        await new Promise((r) => setTimeout(r, 200));
        mem = ep.metrics.snapshot().containers.map((c) => c.memoryBytes);
      }
      expect(mem.every((m) => m !== undefined && m > 0), `memory per container: ${mem.join(', ')}`).toBe(true);
    } finally {
      await ep.stop();
    }
    const { stdout } = await execFileP('podman', ['ps', '-a', '--filter', `label=${RUN_LABEL}=${ep.runId}`, '--format', '{{.Names}}']);
    expect(stdout.trim()).toBe('');
  }, 180_000);
});
