import { imageFileName, type Location } from '../../model/location.js';
import { looksBinary, VirtualFileSystem, type VirtualFile } from '../../model/vfs.js';
import type { LayerEntry, LayerScan } from './layer.js';

/**
 * Applies layer change sets in order to an in-memory tree, then flattens it into a
 * VirtualFileSystem. A tree (not the flat VFS map) so that whiteouts and opaque dirs cost
 * O(depth) instead of a scan of every path.
 *
 * OCI semantics: a layer's whiteouts and opaque markers apply to the layers below it only, so
 * they are applied before the layer's own entries. A non-directory entry replaces whatever was
 * at its path (a whole tree if it was a directory); a directory entry over a directory merges.
 * Symlinks in parent components are resolved inside the image root, like container runtimes do.
 */

interface Node {
  entry?: LayerEntry;
  /** Digest of the layer that last wrote this node. */
  layer: string;
  /** Present iff the node is a directory. */
  children?: Map<string, Node>;
}

export interface AppliedLayer {
  digest: string;
  scan: LayerScan;
}

export interface Gap {
  message: string;
  location: Location;
}

const MAX_HOPS = 40;

export class LayerTree {
  private readonly root: Node = { layer: '', children: new Map() };
  readonly gaps: Gap[] = [];

  constructor(private readonly ref: string) {}

  private gap(layer: string, path: string, message: string): void {
    if (this.gaps.length >= 200) return;
    this.gaps.push({ message, location: { file: imageFileName(this.ref, path), image: { ref: this.ref, layer, path } } });
  }

  /**
   * Walks to the directory node for `dirPath`, resolving symlinks in it (within the root).
   * With `create`, missing (or non-directory) components become implicit directories.
   */
  private walkDir(dirPath: string, create: string | undefined, hops = { n: 0 }): Node | undefined {
    const nodes: Node[] = [this.root];
    const cur: string[] = [];
    const parts = dirPath.split('/').filter((p) => p && p !== '.');
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i];
      const node = nodes[nodes.length - 1];
      if (name === '..') {
        if (cur.length) {
          cur.pop();
          nodes.pop();
        }
        continue;
      }
      let child = node.children!.get(name);
      if (child?.entry?.type === 'symlink') {
        if (++hops.n > MAX_HOPS) return undefined;
        const t = child.entry.linkTarget ?? '';
        const base = t.startsWith('/') ? '' : '/' + cur.join('/');
        return this.walkDir(`${base}/${t}/${parts.slice(i + 1).join('/')}`, create, hops);
      }
      if (!child || !child.children) {
        if (!create) return undefined;
        child = { layer: create, children: new Map() };
        node.children!.set(name, child);
      }
      cur.push(name);
      nodes.push(child);
    }
    return nodes[nodes.length - 1];
  }

  private split(path: string): { dir: string; base: string } {
    const i = path.lastIndexOf('/');
    return { dir: path.slice(0, i) || '/', base: path.slice(i + 1) };
  }

  /** Looks a node up without following a symlink in the last component. */
  private lookup(path: string): Node | undefined {
    const { dir, base } = this.split(path);
    const parent = this.walkDir(dir, undefined);
    return base ? parent?.children?.get(base) : parent;
  }

  apply(layer: AppliedLayer): void {
    const { digest, scan } = layer;
    for (const p of scan.problems) this.gap(digest, p.path.startsWith('/') ? p.path : '/', `layer ${digest}: ${p.message}`);
    for (const w of scan.whiteouts) {
      const { dir, base } = this.split(w);
      this.walkDir(dir, undefined)?.children?.delete(base);
    }
    for (const d of scan.opaqueDirs) {
      const node = this.walkDir(d, undefined);
      node?.children?.clear();
    }
    for (const e of scan.entries) {
      const { dir, base } = this.split(e.path);
      const parent = this.walkDir(dir, digest);
      if (!parent) {
        this.gap(digest, e.path, `layer ${digest}: cannot place ${e.path}: too many symbolic links in its parent path`);
        continue;
      }
      const existing = parent.children!.get(base);
      switch (e.type) {
        case 'dir':
          if (existing?.children) {
            existing.entry = e;
            existing.layer = digest;
          } else parent.children!.set(base, { entry: e, layer: digest, children: new Map() });
          break;
        case 'hardlink': {
          const target = this.lookup(e.linkTarget!);
          if (!target?.entry || target.children) {
            this.gap(digest, e.path, `layer ${digest}: hard link ${e.path} points to ${e.linkTarget}, which is not a file in the image`);
            parent.children!.delete(base);
            break;
          }
          parent.children!.set(base, { entry: { ...target.entry, path: e.path }, layer: digest });
          break;
        }
        case 'other':
          parent.children!.delete(base);
          break;
        default:
          parent.children!.set(base, { entry: e, layer: digest });
      }
    }
  }

  /** Flattens the tree into a VirtualFileSystem with `{kind:'layer'}` origins. */
  toVfs(vfs = new VirtualFileSystem()): VirtualFileSystem {
    const ref = this.ref;
    // One origin object per layer, shared by its files (an image has tens of thousands).
    const origins = new Map<string, VirtualFile['origin']>();
    const originOf = (layer: string): VirtualFile['origin'] => {
      let o = origins.get(layer);
      if (!o) origins.set(layer, (o = { kind: 'layer' as const, image: ref, layer }));
      return o;
    };
    const visit = (node: Node, path: string): void => {
      if (path !== '/') vfs.add(toVirtualFile(originOf(node.layer), path, node));
      const e = node.entry;
      if (e?.skipped && e.type === 'file') this.gap(node.layer, path, `content of ${path} was not read: ${e.skipped}`);
      if (node.children) for (const [name, child] of node.children) visit(child, path === '/' ? `/${name}` : `${path}/${name}`);
    };
    visit(this.root, '/');
    return vfs;
  }
}

/** Shared by every file without kept content: no closure per file. */
const noText = (): undefined => undefined;

function toVirtualFile(origin: VirtualFile['origin'], path: string, node: Node): VirtualFile {
  const e = node.entry;
  if (node.children) return { path, type: 'dir', mode: e?.mode, origin, text: noText };
  if (e!.type === 'symlink') return { path, type: 'symlink', mode: e!.mode, linkTarget: e!.linkTarget, origin, text: noText };
  const content = e!.content;
  if (!content) return { path, type: 'file', mode: e!.mode, size: e!.size, origin, text: noText };
  let decoded: string | undefined | null = null;
  return {
    path,
    type: 'file',
    mode: e!.mode,
    size: e!.size,
    origin,
    text(): string | undefined {
      if (decoded === null) decoded = !looksBinary(content) ? content.toString('utf8') : undefined;
      return decoded;
    },
  };
}
