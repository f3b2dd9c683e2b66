import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const execFileP = promisify(execFile);

/** Static busybox on the host (package busybox-static); copied into every fixture context. */
export const BUSYBOX = '/bin/busybox';

export type FixtureFile = string | { content: string | Buffer; mode: number };

export interface FixtureSpec {
  /** Build-context files by relative path (`busybox` is always added). */
  files: Record<string, FixtureFile>;
  /** The Containerfile text. */
  containerfile: string;
}

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURE_IMAGES_DIR = path.join(REPO_ROOT, 'fixtures/images');

let busyboxHash: string | undefined;
function hashBusybox(): string {
  busyboxHash ??= createHash('sha256').update(readFileSync(BUSYBOX)).digest('hex');
  return busyboxHash;
}

function normaliseFile(f: FixtureFile): { content: Buffer; mode: number } {
  if (typeof f === 'string') return { content: Buffer.from(f), mode: 0o644 };
  return { content: Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content), mode: f.mode };
}

/** Tag under which a spec is built: the same spec always gets the same tag. */
export function fixtureTag(name: string, spec: FixtureSpec): string {
  const h = createHash('sha256');
  h.update(`name\0${name}\0containerfile\0${spec.containerfile}\0busybox\0${hashBusybox()}\0`);
  for (const rel of Object.keys(spec.files).sort()) {
    const f = normaliseFile(spec.files[rel]);
    h.update(`file\0${rel}\0${f.mode.toString(8)}\0${f.content.length}\0`);
    h.update(f.content);
  }
  return `localhost/smcl-fixture/${name}:${h.digest('hex').slice(0, 20)}`;
}

async function imageExists(tag: string): Promise<boolean> {
  try {
    await execFileP('podman', ['image', 'exists', tag]);
    return true;
  } catch {
    return false;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const LOCK_DIR = path.join(os.tmpdir(), 'smcl-fixture-locks');
const LOCK_STALE_MS = 10 * 60_000;

/**
 * Cross-process lock: an O_EXCL-created file holding the owner's pid. A lock whose owner is dead
 * (or that is older than 10 min) is taken over, so a killed test worker never blocks later runs.
 */
async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  await fs.mkdir(LOCK_DIR, { recursive: true });
  const lockPath = path.join(LOCK_DIR, `${key.replace(/[^a-zA-Z0-9_.-]/g, '_')}.lock`);
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      const handle = await fs.open(lockPath, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number.parseInt(await fs.readFile(lockPath, 'utf8').catch(() => ''), 10);
      const stat = await fs.stat(lockPath).catch(() => undefined);
      const stale = stat !== undefined && ((owner > 0 && !pidAlive(owner)) || Date.now() - stat.mtimeMs > LOCK_STALE_MS);
      if (stale) {
        // Atomic take-over: only one waiter's rename of the stale file succeeds.
        const grave = `${lockPath}.stale.${process.pid}`;
        await fs.rename(lockPath, grave).then(() => fs.rm(grave, { force: true }), () => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for fixture lock ${lockPath}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lockPath, { force: true });
  }
}

/**
 * Builds a fixture image with podman (FROM scratch + the host's static busybox) and returns its
 * tag `localhost/smcl-fixture/<name>:<content-hash>`. When an image with that tag exists the
 * build is skipped, so each image is built once per machine even with parallel test workers.
 */
export async function buildFixtureImage(name: string, spec: FixtureSpec): Promise<string> {
  const tag = fixtureTag(name, spec);
  if (await imageExists(tag)) return tag;
  return withLock(tag, async () => {
    if (await imageExists(tag)) return tag;
    const ctx = await fs.mkdtemp(path.join(os.tmpdir(), `smcl-fixture-${name}-`));
    try {
      await fs.copyFile(BUSYBOX, path.join(ctx, 'busybox'));
      await fs.chmod(path.join(ctx, 'busybox'), 0o755);
      for (const [rel, file] of Object.entries(spec.files)) {
        const f = normaliseFile(file);
        const dest = path.join(ctx, rel);
        if (!dest.startsWith(ctx + path.sep)) throw new Error(`fixture file escapes the context: ${rel}`);
        await fs.mkdir(path.dirname(dest), { recursive: true });
        await fs.writeFile(dest, f.content);
        await fs.chmod(dest, f.mode);
      }
      await fs.writeFile(path.join(ctx, 'Containerfile'), spec.containerfile);
      try {
        await execFileP('podman', ['build', '-q', '--layers=false', '-t', tag, '-f', path.join(ctx, 'Containerfile'), ctx], {
          maxBuffer: 16 * 1024 * 1024,
          timeout: 5 * 60_000,
        });
      } catch (err) {
        const e = err as Error & { stderr?: string };
        throw new Error(`podman build of fixture ${name} failed: ${(e.stderr || e.message).trim()}`);
      }
      return tag;
    } finally {
      await fs.rm(ctx, { recursive: true, force: true });
    }
  });
}

/**
 * Reads fixtures/images/<name>/ (a `Containerfile` plus the files it copies; executable bits
 * are kept), adds fixtures/shared/* where the directory has no file of that name, and builds it
 * with {@link buildFixtureImage}.
 */
export async function buildFixtureFromDir(name: string, dir = path.join(FIXTURE_IMAGES_DIR, name)): Promise<string> {
  const files: Record<string, FixtureFile> = {};
  let containerfile: string | undefined;
  const walk = async (sub: string): Promise<void> => {
    for (const entry of await fs.readdir(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(rel);
      else if (rel === 'Containerfile') containerfile = await fs.readFile(path.join(dir, rel), 'utf8');
      else {
        const abs = path.join(dir, rel);
        const st = await fs.stat(abs);
        files[rel] = { content: await fs.readFile(abs), mode: st.mode & 0o777 & 0o111 ? 0o755 : 0o644 };
      }
    }
  };
  await walk('');
  if (containerfile === undefined) throw new Error(`no Containerfile in ${dir}`);
  // Files every busybox fixture needs (the HTTP handler), kept once in fixtures/shared/ (found
  // from `dir`, fixtures/<set>/<name>/, since the bench runs a compiled copy of this module).
  const shared = path.resolve(dir, '../../shared');
  for (const entry of await fs.readdir(shared).catch(() => [] as string[])) {
    if (files[entry]) continue;
    const abs = path.join(shared, entry);
    files[entry] = { content: await fs.readFile(abs), mode: (await fs.stat(abs)).mode & 0o111 ? 0o755 : 0o644 };
  }
  return buildFixtureImage(name, { files, containerfile });
}
