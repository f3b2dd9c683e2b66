import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A temp directory with the given files (`{ 'a/b.sh': 'text' }`, or `{ content, mode }`), removed after the file's tests. */
export function tempTree(files: Record<string, string | { content: string; mode: number }>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smcl-test-'));
  made.push(dir);
  for (const [rel, spec] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    const content = typeof spec === 'string' ? spec : spec.content;
    fs.writeFileSync(p, content);
    if (typeof spec !== 'string') fs.chmodSync(p, spec.mode);
  }
  return dir;
}
