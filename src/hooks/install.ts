import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../engine/types.js';
import { hooksDir, repoRoot } from './git.js';

export type HookName = 'pre-push' | 'pre-commit';
export const HOOK_NAMES: HookName[] = ['pre-push', 'pre-commit'];

/** First-lines marker that tells our hook scripts from anyone else's. */
export const MARKER = '# smcl-hook:';
/** Suffix of a hook that was there before ours: ours runs it first, uninstall puts it back. */
export const CHAINED_SUFFIX = '.smcl-chained';

/** The CLI this code belongs to: what the hook falls back to when no project-local smcl exists. */
export function installedCli(): { node: string; cli: string } {
  return { node: process.execPath, cli: fileURLToPath(new URL('../cli/main.js', import.meta.url)) };
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The hook script (POSIX sh). It runs a chained pre-existing hook first (same arguments and,
 * for pre-push, the same stdin), then `smcl hook run <name>`, found in this order:
 * `$SMCL_BIN`; the repository's `node_modules/.bin/smcl`; the CLI that installed the hook
 * (absolute node + script, recorded below); `smcl` on PATH.
 */
export function hookScript(name: HookName, cli = installedCli()): string {
  const readsStdin = name === 'pre-push';
  return `#!/bin/sh
${MARKER} ${name}
# Installed by \`smcl hook install --${name}\`; \`smcl hook uninstall --${name}\` removes it and
# restores the hook that was here before (kept as ${name}${CHAINED_SUFFIX}, run first).
# Bypass once: SMCL_SKIP=1 git ${name === 'pre-push' ? 'push' : 'commit'} (or --no-verify).
SMCL_INSTALLED_NODE=${shQuote(cli.node)}
SMCL_INSTALLED_CLI=${shQuote(cli.cli)}

${readsStdin ? 'smcl_input=$(cat)\n' : ''}chained="$(dirname "$0")/${name}${CHAINED_SUFFIX}"
if [ -x "$chained" ]; then
  ${readsStdin ? `printf '%s\\n' "$smcl_input" | "$chained" "$@" || exit $?` : `"$chained" "$@" || exit $?`}
fi

if [ "\${SMCL_SKIP:-}" = 1 ]; then
  echo "smcl: SMCL_SKIP=1, not linting" >&2
  exit 0
fi

top=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
run_smcl() {
  if [ -n "\${SMCL_BIN:-}" ]; then
    "$SMCL_BIN" "$@"
  elif [ -x "$top/node_modules/.bin/smcl" ] && command -v node >/dev/null 2>&1; then
    "$top/node_modules/.bin/smcl" "$@"
  elif [ -f "$SMCL_INSTALLED_CLI" ] && [ -x "$SMCL_INSTALLED_NODE" ]; then
    "$SMCL_INSTALLED_NODE" "$SMCL_INSTALLED_CLI" "$@"
  elif command -v smcl >/dev/null 2>&1; then
    smcl "$@"
  else
    echo "smcl: cannot find smcl (tried \\$SMCL_BIN, $top/node_modules/.bin/smcl, $SMCL_INSTALLED_CLI, PATH)." >&2
    echo "smcl: install it (npm install --save-dev sagemaker-container-lint), set SMCL_BIN, or bypass with SMCL_SKIP=1." >&2
    return 1
  fi
}
${readsStdin ? `printf '%s\\n' "$smcl_input" | run_smcl hook run ${name} "$@"` : `run_smcl hook run ${name} "$@"`}
`;
}

export function isOurs(file: string): boolean {
  try {
    return fs.readFileSync(file, 'utf8').split('\n', 3).some((l) => l.startsWith(MARKER));
  } catch {
    return false;
  }
}

export interface HookChange {
  hook: HookName;
  path: string;
  action: 'installed' | 'updated' | 'chained' | 'removed' | 'restored' | 'absent' | 'foreign';
  chained?: string;
}

/** Writes the hook into the hooks directory git uses (core.hooksPath respected); never clobbers. */
export function installHook(cwd: string, name: HookName, cli = installedCli()): HookChange {
  const root = repoRoot(cwd);
  const dir = hooksDir(root);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  const chained = file + CHAINED_SUFFIX;
  let action: HookChange['action'] = 'installed';
  if (fs.existsSync(file) || isSymlink(file)) {
    if (isOurs(file)) action = 'updated';
    else {
      if (fs.existsSync(chained) || isSymlink(chained)) throw new InputError(`${file}: a hook not written by smcl is there and ${path.basename(chained)} exists too; move one of them away first`);
      fs.renameSync(file, chained);
      action = 'chained';
    }
  }
  const tmp = `${file}.smcl-tmp-${process.pid}`;
  fs.writeFileSync(tmp, hookScript(name, cli), { mode: 0o755 });
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, file);
  return { hook: name, path: file, action, ...(fs.existsSync(chained) ? { chained } : {}) };
}

/** Removes our hook and puts back the one it chained; leaves anyone else's hook alone. */
export function uninstallHook(cwd: string, name: HookName): HookChange {
  const root = repoRoot(cwd);
  const file = path.join(hooksDir(root), name);
  const chained = file + CHAINED_SUFFIX;
  if (!fs.existsSync(file) && !isSymlink(file)) return { hook: name, path: file, action: 'absent' };
  if (!isOurs(file)) return { hook: name, path: file, action: 'foreign' };
  fs.rmSync(file);
  if (fs.existsSync(chained) || isSymlink(chained)) {
    fs.renameSync(chained, file);
    return { hook: name, path: file, action: 'restored' };
  }
  return { hook: name, path: file, action: 'removed' };
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
