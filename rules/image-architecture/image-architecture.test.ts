import { describe, expect, it } from 'vitest';
import { runContainerRules } from '../../src/engine/run.js';
import { emptyModel } from '../../src/model/container-model.js';
import rule, { architectureFor } from './index.js';

function modelFor(architecture: string) {
  const m = emptyModel('image', 'registry.example/model:1', { file: 'registry.example/model:1', image: { ref: 'registry.example/model:1' } });
  m.platform = { os: 'linux', architecture };
  return m;
}

describe('image-architecture', () => {
  it.each([
    ['amd64', 'ml.m5.large', 0],
    ['arm64', 'ml.c6g.xlarge', 0],
    ['amd64', 'ml.c6g.xlarge', 1],
    ['arm64', 'ml.g5.xlarge', 1],
  ])('%s image on %s → %i finding(s)', (arch, instanceType, count) => {
    const findings = runContainerRules([rule], modelFor(arch), { options: { 'image-architecture': { instanceType } } });
    expect(findings).toHaveLength(count);
    if (count) expect(findings[0]).toMatchObject({ ruleId: 'image-architecture', severity: 'error', location: { file: 'registry.example/model:1' } });
  });

  it('is silent without an instance type or a platform', () => {
    expect(runContainerRules([rule], modelFor('amd64'))).toEqual([]);
    const m = modelFor('amd64');
    m.platform = undefined;
    expect(runContainerRules([rule], m, { options: { 'image-architecture': { instanceType: 'ml.c6g.large' } } })).toEqual([]);
  });

  it('maps instance families to architectures', () => {
    expect(architectureFor('ml.m7g.2xlarge')).toBe('arm64');
    expect(architectureFor('ml.g4dn.xlarge')).toBe('amd64');
  });
});
