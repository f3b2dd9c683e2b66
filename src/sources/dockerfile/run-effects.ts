import { normalisePath, type VirtualFileSystem } from '../../model/vfs.js';

/**
 * The few effects of RUN steps that rules depend on and that can be read without running them:
 * `chmod` (is the serve script executable?) and `ln -s` (is `serve` on PATH through a link?).
 * Anything else a RUN does stays unknown; rules that need more say so.
 */
export function applyRunEffects(script: string, files: VirtualFileSystem, workdir: string): void {
  for (const command of splitSimpleCommands(script)) {
    const words = command.split(/\s+/).filter(Boolean);
    // Skip leading env assignments and sudo.
    while (words.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]) || words[0] === 'sudo')) words.shift();
    // `/bin/chmod`, and busybox applets (`busybox chmod ...`, common in scratch images' exec-form RUN).
    if (words.length && /(^|\/)busybox$/.test(words[0])) words.shift();
    const [rawCmd, ...args] = words;
    const cmd = rawCmd?.replace(/^.*\//, '');
    if (cmd === 'chmod') applyChmod(args, files, workdir);
    else if (cmd === 'ln') applyLink(args, files, workdir);
  }
}

export function splitSimpleCommands(script: string): string[] {
  return script
    .replace(/\\\r?\n/g, ' ')
    .split(/&&|\|\||;|\n|\|/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function applyChmod(args: string[], files: VirtualFileSystem, workdir: string): void {
  const recursive = args.some((a) => /^-[a-zA-Z]*R/.test(a));
  const rest = args.filter((a) => !a.startsWith('-'));
  const [modeSpec, ...targets] = rest;
  if (!modeSpec) return;
  for (const t of targets) {
    if (/[$`*?]/.test(t)) {
      // Globs: apply to matching files; variables: unknowable, leave the mode as it was.
      if (t.includes('$') || t.includes('`')) continue;
      for (const f of files.glob(normalisePath(unquote(t), workdir))) setMode(files, f.path, modeSpec);
      continue;
    }
    const p = normalisePath(unquote(t), workdir);
    if (recursive) {
      for (const f of files.all()) if (f.path === p || f.path.startsWith(p + '/')) setMode(files, f.path, modeSpec);
    } else setMode(files, p, modeSpec);
  }
}

function setMode(files: VirtualFileSystem, p: string, spec: string): void {
  const f = files.get(p);
  if (!f) return;
  const next = applyModeSpec(f.mode ?? 0o644, spec);
  if (next !== undefined) files.setMode(f.path, next);
}

/** Applies an octal (`755`) or symbolic (`+x`, `u+x,g+x`, `a=rx`) chmod spec. */
export function applyModeSpec(mode: number, spec: string): number | undefined {
  if (/^[0-7]{3,4}$/.test(spec)) return parseInt(spec, 8);
  let m = mode;
  for (const clause of spec.split(',')) {
    const cm = /^([ugoa]*)([+\-=])([rwxX]*)$/.exec(clause);
    if (!cm) return undefined;
    const [, who = '', op, perms] = cm;
    const whoMask = who === '' || who.includes('a') ? 0o777 : (who.includes('u') ? 0o700 : 0) | (who.includes('g') ? 0o070 : 0) | (who.includes('o') ? 0o007 : 0);
    let bits = 0;
    if (perms.includes('r')) bits |= 0o444;
    if (perms.includes('w')) bits |= 0o222;
    if (perms.includes('x') || perms.includes('X')) bits |= 0o111;
    bits &= whoMask;
    if (op === '+') m |= bits;
    else if (op === '-') m &= ~bits;
    else m = (m & ~whoMask) | bits;
  }
  return m;
}

function applyLink(args: string[], files: VirtualFileSystem, workdir: string): void {
  if (!args.some((a) => /^-[a-zA-Z]*s/.test(a))) return;
  const rest = args.filter((a) => !a.startsWith('-')).map(unquote);
  if (rest.length !== 2 || rest.some((a) => a.includes('$'))) return;
  const [target, link] = rest;
  let linkPath = normalisePath(link, workdir);
  const existing = files.get(linkPath);
  if (existing?.type === 'dir' || link.endsWith('/')) linkPath = `${linkPath}/${target.split('/').pop()}`;
  const targetFile = files.get(normalisePath(target, workdir));
  if (!targetFile) return;
  files.add({ ...targetFile, path: linkPath, type: 'symlink', linkTarget: target, text: targetFile.text });
}

function unquote(s: string): string {
  return s.replace(/^(['"])(.*)\1$/, '$2');
}
