import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mayHaveConfig } from '../../src/engine/config.js';
import { smcl } from '../support/cli.js';
import { tempTree } from '../support/tmp.js';

/**
 * smcl skips loading cosmiconfig when nothing it could find exists. The pre-check may say "maybe"
 * too often (cosmiconfig then searches as before), never "no" when cosmiconfig would find a config.
 */
describe('config search pre-check', () => {
  const saved = { cwd: process.cwd(), xdg: process.env.XDG_CONFIG_HOME, home: process.env.HOME };
  afterEach(() => {
    process.chdir(saved.cwd);
    for (const [k, v] of [['XDG_CONFIG_HOME', saved.xdg], ['HOME', saved.home]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  /** A tree as the only world the check sees: its own cwd, HOME and XDG_CONFIG_HOME. */
  function world(files: Record<string, string>): string {
    const root = tempTree({ 'home/.keep': '', ...files });
    process.env.HOME = path.join(root, 'home');
    process.env.XDG_CONFIG_HOME = path.join(root, 'home/.config');
    process.chdir(root);
    return root;
  }

  it('no config anywhere: no', () => {
    const root = world({ 'repo/svc/Dockerfile': 'FROM x\n', 'repo/package.json': '{"name":"x","dependencies":{"left-pad":"1"}}' });
    expect(mayHaveConfig(path.join(root, 'repo/svc/Dockerfile'))).toBe(false);
  });

  it('a search place upward, a package.json naming smcl, a personal config, a meta config: maybe', () => {
    let root = world({ 'repo/.smclrc.yaml': 'rules: {}\n', 'repo/svc/Dockerfile': 'FROM x\n' });
    expect(mayHaveConfig(path.join(root, 'repo/svc/Dockerfile'))).toBe(true);
    root = world({ 'repo/package.json': '{"smcl":{"failOn":"warning"}}', 'repo/svc/Dockerfile': 'FROM x\n' });
    expect(mayHaveConfig(path.join(root, 'repo/svc'))).toBe(true);
    root = world({ 'home/.config/smcl/config.json': '{}', 'repo/Dockerfile': 'FROM x\n' });
    expect(mayHaveConfig(path.join(root, 'repo'))).toBe(true);
    root = world({ '.config/config.json': '{"cosmiconfig":{}}', 'repo/Dockerfile': 'FROM x\n' });
    expect(mayHaveConfig(path.join(root, 'repo'))).toBe(true);
  });

  it('the CLI does not load cosmiconfig without a config, and does with one', () => {
    const bare = tempTree({ Dockerfile: 'FROM scratch\n' });
    const plain = smcl(['lint', bare, '--fail-on', 'none'], { cwd: bare, env: { NODE_DEBUG: 'module' } });
    expect(plain.status).toBe(0);
    expect(plain.stderr).not.toMatch(/cosmiconfig/);
    fs.writeFileSync(path.join(bare, '.smclrc.json'), JSON.stringify({ failOn: 'info' }));
    const configured = smcl(['lint', bare], { cwd: bare, env: { NODE_DEBUG: 'module' } });
    expect(configured.stderr).toMatch(/cosmiconfig/);
    expect(configured.status).toBe(1);
  });
});
