import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { isDockerfileName } from '../../src/lint/discover.js';
import { ROOT } from '../support/cli.js';

interface PreCommitHook {
  id: string;
  entry: string;
  language: string;
  files?: string;
  exclude?: string;
  pass_filenames?: boolean;
}

const hooks = parse(fs.readFileSync(path.join(ROOT, '.pre-commit-hooks.yaml'), 'utf8')) as PreCommitHook[];

describe('.pre-commit-hooks.yaml', () => {
  it('declares smcl-lint: node, entry smcl lint, on the files smcl calls Dockerfiles', () => {
    const hook = hooks.find((h) => h.id === 'smcl-lint')!;
    expect(hook).toMatchObject({ language: 'node', entry: 'smcl lint' });
    // pre-commit matches with Python's re.search; these patterns mean the same in JavaScript.
    const files = new RegExp(hook.files!);
    const exclude = new RegExp(hook.exclude!);
    const selected = (p: string) => files.test(p) && !exclude.test(p);
    for (const p of ['Dockerfile', 'svc/Dockerfile', 'svc/Containerfile', 'svc/Dockerfile.gpu', 'svc/serve.Dockerfile', 'a/b/api.dockerfile', 'Dockerfile.dockerignore', 'svc/Dockerfile.dockerignore', 'Dockerfiles/readme.md', 'svc/notDockerfile', 'docs/Dockerfile.md'])
      expect(selected(p), p).toBe(isDockerfileName(path.posix.basename(p)));
  });

  it('the staged variant runs the pre-commit hook logic without file names', () => {
    const hook = hooks.find((h) => h.id === 'smcl-lint-staged')!;
    expect(hook).toMatchObject({ language: 'node', entry: 'smcl hook run pre-commit', pass_filenames: false });
    const bin = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).bin as Record<string, string>;
    expect(bin.smcl).toBe('dist/src/cli/main.js');
  });
});
