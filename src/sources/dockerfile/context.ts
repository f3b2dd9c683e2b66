import fs from 'node:fs';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import picomatch from 'picomatch';

/** A build context entry, relative to the context root with `/` separators. */
export interface ContextEntry {
  rel: string;
  abs: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  size: number;
}

/** Stop walking huge contexts (a repo root with data sets): rules only need scripts and configs. */
const MAX_CONTEXT_ENTRIES = 50_000;
const SKIPPED_DIRS = new Set(['.git']);

/**
 * The build context as `docker build` sees it: files under the root minus `.dockerignore`
 * (also `<Dockerfile>.dockerignore`, which BuildKit prefers when present).
 */
export class BuildContext {
  private entries?: Map<string, ContextEntry>;
  /** Undefined without a .dockerignore: then nothing is ignored and no pattern is ever matched. */
  private readonly ignorer?: Ignore;
  truncated = false;

  constructor(
    readonly root: string,
    dockerfilePath?: string,
  ) {
    const candidates = [dockerfilePath ? `${dockerfilePath}.dockerignore` : undefined, path.join(root, '.dockerignore')];
    for (const file of candidates) {
      if (file && fs.existsSync(file)) {
        this.ignorer = ignore().add(
          fs
            .readFileSync(file, 'utf8')
            .split(/\r?\n/)
            // Docker patterns are root-anchored and may start with `/`; `ignore` wants them relative.
            .map((l) => l.trim().replace(/^\//, ''))
            .filter((l) => l && !l.startsWith('#')),
        );
        break;
      }
    }
  }

  private load(): Map<string, ContextEntry> {
    if (this.entries) return this.entries;
    const entries = new Map<string, ContextEntry>();
    this.walk(this.root, '', entries);
    this.entries = entries;
    return entries;
  }

  /** Adds the entries under `dirAbs` (context-relative `dirRel`) to `into`, recursively. */
  private walk(dirAbs: string, dirRel: string, into: Map<string, ContextEntry>): void {
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(dirAbs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of names) {
      if (into.size >= MAX_CONTEXT_ENTRIES) {
        this.truncated = true;
        return;
      }
      const rel = dirRel ? `${dirRel}/${d.name}` : d.name;
      const isDir = d.isDirectory();
      if (isDir && SKIPPED_DIRS.has(d.name)) continue;
      if (this.ignorer?.ignores(isDir ? rel + '/' : rel)) continue;
      const abs = path.join(dirAbs, d.name);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(abs);
      } catch {
        continue;
      }
      const type = st.isSymbolicLink() ? 'symlink' : isDir ? 'dir' : 'file';
      into.set(rel, { rel, abs, type, mode: st.mode & 0o7777, size: st.size });
      if (isDir) this.walk(abs, rel, into);
    }
  }

  /**
   * Entries matched by a COPY source (a path, a directory, or a glob as Go's filepath.Match takes it).
   * A directory source yields its files with `under` set to the path relative to that directory.
   */
  resolve(source: string): Array<ContextEntry & { under: string }> {
    const src = path.posix.normalize(source.replace(/^\/+/, '')).replace(/^\.\/?/, '').replace(/\/+$/, '');
    // A plain file (the common `COPY serve /usr/local/bin/`) needs one stat, not a walk of the
    // whole context, which dominates lint time on large repositories.
    if (src && !/[*?[]/.test(src) && !this.entries) {
      const direct = this.statEntry(src);
      if (direct && direct.type !== 'dir') return this.isIgnored(src, false) ? [] : [{ ...direct, under: path.posix.basename(src) }];
      // A directory (`COPY program /opt/program`): walk that subtree only.
      if (direct) {
        if (this.isIgnored(src, true)) return [];
        const sub = new Map<string, ContextEntry>();
        this.walk(direct.abs, src, sub);
        const out: Array<ContextEntry & { under: string }> = [];
        for (const e of sub.values()) if (e.type !== 'dir') out.push({ ...e, under: e.rel.slice(src.length + 1) });
        return out;
      }
    }
    const all = this.load();
    const out: Array<ContextEntry & { under: string }> = [];
    const addTree = (base: ContextEntry): void => {
      if (base.type !== 'dir') {
        out.push({ ...base, under: path.posix.basename(base.rel) });
        return;
      }
      const prefix = base.rel ? base.rel + '/' : '';
      for (const e of all.values()) {
        if (e.type !== 'dir' && e.rel.startsWith(prefix)) out.push({ ...e, under: e.rel.slice(prefix.length) });
      }
    };
    if (src === '' || src === '.') {
      addTree({ rel: '', abs: this.root, type: 'dir', mode: 0o755, size: 0 });
      return out;
    }
    if (/[*?[]/.test(src)) {
      const match = picomatch(src, { dot: true });
      for (const e of all.values()) if (match(e.rel)) addTree(e);
      return out;
    }
    const e = all.get(src);
    if (e) addTree(e);
    return out;
  }

  private statEntry(rel: string): ContextEntry | undefined {
    const abs = path.join(this.root, ...rel.split('/'));
    // Stay inside the context: `COPY ../x` is an error for docker build, and no file outside is read.
    if (path.relative(this.root, abs).startsWith('..')) return undefined;
    try {
      const st = fs.lstatSync(abs);
      return { rel, abs, type: st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'file', mode: st.mode & 0o7777, size: st.size };
    } catch {
      return undefined;
    }
  }

  /** A path is excluded when it or any parent directory is ignored (as the walk would skip it). */
  private isIgnored(rel: string, isDir: boolean): boolean {
    const parts = rel.split('/');
    if (parts.some((p) => SKIPPED_DIRS.has(p))) return true;
    if (!this.ignorer) return false;
    for (let i = 1; i < parts.length; i++) if (this.ignorer.ignores(parts.slice(0, i).join('/') + '/')) return true;
    return this.ignorer.ignores(isDir ? rel + '/' : rel);
  }
}
