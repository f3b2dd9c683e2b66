import picomatch from 'picomatch';
import { imageFileName, type Location } from './location.js';

/** Where a file of the container model came from. */
export type FileOrigin =
  /** Copied from the build context by COPY/ADD: `diskPath` is readable now, `copiedBy` is the instruction. */
  | { kind: 'context'; diskPath: string; display: string; copiedBy: Location }
  /** Written inline by a heredoc in the Dockerfile (COPY <<EOF): its first content line is `firstLine`. */
  | { kind: 'heredoc'; dockerfile: string; firstLine: number; copiedBy: Location }
  /** Found in an image layer. */
  | { kind: 'layer'; image: string; layer: string };

export interface VirtualFile {
  /** Absolute path inside the image, normalised (no trailing slash, no `..`). */
  path: string;
  type: 'file' | 'dir' | 'symlink';
  /** Unix permission bits (e.g. 0o755), or undefined when the source cannot tell. */
  mode: number | undefined;
  size?: number;
  linkTarget?: string;
  origin: FileOrigin;
  /** Text content, or undefined when binary, too large, or not captured by the source. */
  text(): string | undefined;
}

/** Files larger than this are not read as text; rules only need scripts and configs. */
export const MAX_TEXT_FILE_BYTES = 1024 * 1024;

export function normalisePath(p: string, cwd = '/'): string {
  const abs = p.startsWith('/') ? p : `${cwd.replace(/\/+$/, '')}/${p}`;
  const parts: string[] = [];
  for (const part of abs.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return '/' + parts.join('/');
}

/** Heuristic used by every source: a NUL byte in the first 8 KiB means binary. */
export function looksBinary(buf: Uint8Array): boolean {
  const n = Math.min(buf.length, 8192);
  for (let i = 0; i < n; i++) if (buf[i] === 0) return true;
  return false;
}

/**
 * The container's file system as far as the source could see it. A Dockerfile source fills it
 * from COPY/ADD of the build context; an image source from the layers (only files that rules
 * declared interest in keep their content).
 */
export class VirtualFileSystem {
  private readonly files = new Map<string, VirtualFile>();
  /** Bumped on every change, so that readers can cache what they derive from the file list. */
  revision = 0;
  /** Texts that rules actually read, by printable file name: reporters use them for code frames. */
  readonly readTexts = new Map<string, string>();

  /** A copy whose later changes do not affect this one (a stage built `FROM` another). */
  clone(): VirtualFileSystem {
    const copy = new VirtualFileSystem();
    for (const f of this.files.values()) copy.files.set(f.path, f);
    return copy;
  }

  add(file: VirtualFile): void {
    const path = normalisePath(file.path);
    // No copy when the path is already normal: image sources add tens of thousands of files.
    this.files.set(path, path === file.path ? file : { ...file, path });
    this.revision++;
  }

  remove(path: string): boolean {
    this.revision++;
    return this.files.delete(normalisePath(path));
  }

  /** Removes a path and everything below it (whiteouts, `rm -rf`). */
  removeTree(path: string): void {
    const p = normalisePath(path);
    const prefix = p === '/' ? '/' : p + '/';
    for (const key of [...this.files.keys()]) if (key === p || key.startsWith(prefix)) this.files.delete(key);
    this.revision++;
  }

  /** Follows symlinks (up to 40 hops, like Linux) and returns the file. */
  get(path: string): VirtualFile | undefined {
    let p = normalisePath(path);
    for (let hops = 0; hops < 40; hops++) {
      const f = this.files.get(p);
      if (!f || f.type !== 'symlink' || f.linkTarget === undefined) return f;
      const dir = p.slice(0, p.lastIndexOf('/')) || '/';
      p = normalisePath(f.linkTarget, dir);
    }
    return undefined;
  }

  has(path: string): boolean {
    return this.get(path) !== undefined;
  }

  setMode(path: string, mode: number): void {
    const f = this.files.get(normalisePath(path));
    if (f) this.files.set(f.path, { ...f, mode });
    this.revision++;
  }

  all(): VirtualFile[] {
    return [...this.files.values()];
  }

  /** Regular files whose absolute path matches any of the globs (picomatch syntax, `**` allowed). */
  glob(patterns: string | string[]): VirtualFile[] {
    const match = picomatch(patterns, { dot: true });
    return this.all().filter((f) => f.type === 'file' && match(f.path));
  }

  /**
   * Reads a file's text and remembers it under its printable name for code frames. A heredoc's
   * printable name is its Dockerfile, whose whole text the source already keeps (locations in a
   * heredoc are Dockerfile lines): recording the heredoc body under that name would replace the
   * Dockerfile's text and put every code frame of that Dockerfile on the wrong lines.
   */
  readText(file: VirtualFile): string | undefined {
    const text = file.text();
    if (text !== undefined && file.origin.kind !== 'heredoc') this.readTexts.set(displayName(file), text);
    return text;
  }

  isExecutable(path: string): boolean | undefined {
    const f = this.get(path);
    if (!f) return false;
    if (f.mode === undefined) return undefined;
    return (f.mode & 0o111) !== 0;
  }
}

/** The printable name of a model file: the context path on disk, the Dockerfile, or image//path. */
export function displayName(file: VirtualFile): string {
  switch (file.origin.kind) {
    case 'context':
      return file.origin.display;
    case 'heredoc':
      return file.origin.dockerfile;
    case 'layer':
      return imageFileName(file.origin.image, file.path);
  }
}

/** Location of a line/column inside a model file, in the terms of where the file came from. */
export function locateInFile(file: VirtualFile, line: number, column?: number, endColumn?: number): Location {
  const o = file.origin;
  switch (o.kind) {
    case 'context':
      return { file: o.display, line, column, endColumn };
    case 'heredoc':
      return { file: o.dockerfile, line: o.firstLine + line - 1, column, endColumn };
    case 'layer':
      return {
        file: imageFileName(o.image, file.path),
        line,
        column,
        endColumn,
        image: { ref: o.image, layer: o.layer, path: file.path },
      };
  }
}
