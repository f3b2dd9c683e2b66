import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Compiles src/ and rules/ to dist/ so the CLI tests run exactly what `npm ci` installs.
 * Type errors do not stop the emit here: `npm run typecheck` (part of `npm run test:all`) fails on them.
 */
export default function setup(): void {
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (!fs.existsSync(path.join(root, 'dist/src/cli/main.js'))) throw new Error(`TypeScript build produced no CLI:\n${r.stdout}${r.stderr}`);
}
