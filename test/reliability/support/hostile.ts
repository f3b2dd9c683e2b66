/**
 * Hostile inputs for the image sources, and a child-process runner that measures them.
 *
 * - rawTar(): a minimal ustar writer (headers by hand), so tests can make entries tar-stream
 *   refuses to write (`..` names, absolute names, devices, 100,000 entries quickly);
 * - streamedGzipTar(): a gzip'd tar with one huge file, compressed chunk by chunk (a gzip bomb
 *   never exists uncompressed in this process);
 * - hostileRegistry(): a registry v2 server on 127.0.0.1 whose routes the test programs
 *   (lying manifests, index loops, redirects, endless bodies), plus a second server on
 *   127.0.0.2 ("another host") that logs what reaches it;
 * - loadInChild(): loads an image through the compiled sources (dist/) in a new node process
 *   with its own empty TMPDIR and cwd, and returns the outcome plus the child's peak RSS.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { ROOT } from '../../support/cli.js';

export interface RawEntry {
  name: string;
  /** ustar typeflag: '0' file, '1' hard link, '2' symlink, '3' char device, '4' block device, '5' dir, '6' fifo. */
  type?: '0' | '1' | '2' | '3' | '4' | '5' | '6';
  content?: Buffer;
  linkname?: string;
  mode?: number;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** One 512-byte ustar header. Names longer than 100 bytes use the 155-byte prefix field. */
export function tarHeader(e: RawEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  let name = e.name;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 154);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  h.write(name, 0, 100);
  h.write(octal(e.mode ?? 0o644, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(0, 12), 136);
  h.fill(' ', 148, 156);
  h.write(e.type ?? '0', 156);
  h.write(e.linkname ?? '', 157, 100);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.write(octal(0, 8), 329);
  h.write(octal(0, 8), 337);
  h.write(prefix, 345, 155);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148);
  return h;
}

export function rawTar(entries: RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const content = e.type === undefined || e.type === '0' ? (e.content ?? Buffer.alloc(0)) : Buffer.alloc(0);
    parts.push(tarHeader(e, content.length), content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** gzip(tar with one file `name` of `size` zero bytes), made chunk by chunk. */
export async function streamedGzipTar(name: string, size: number): Promise<{ gz: Buffer; diffId: string }> {
  const gz = zlib.createGzip({ level: 1 });
  const hash = createHash('sha256');
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((r) => gz.on('end', () => r()));
  const write = (b: Buffer): Promise<void> => {
    hash.update(b);
    return new Promise((r) => (gz.write(b) ? r() : gz.once('drain', () => r())));
  };
  await write(tarHeader({ name }, size));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let left = size; left > 0; left -= zeros.length) await write(left >= zeros.length ? zeros : zeros.subarray(0, left));
  await write(Buffer.alloc((512 - (size % 512)) % 512 + 1024));
  gz.end();
  await done;
  return { gz: Buffer.concat(out), diffId: 'sha256:' + hash.digest('hex') };
}

/* ------------------------------------------------------------------ registry */

export interface LoggedRequest {
  host: 'registry' | 'other';
  method: string;
  path: string;
  authorization?: string;
}

export type Route = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => boolean | void;

export interface HostileRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  /** Base URL of the other host (127.0.0.2). */
  otherUrl: string;
  log: LoggedRequest[];
  /** Routes tried in order; the first that returns true (or undefined) handles the request. */
  routes: Route[];
  /** Basic credentials the registry demands (none when unset). */
  basic?: { username: string; password: string };
  stop(): Promise<void>;
}

function listen(server: http.Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

export async function hostileRegistry(): Promise<HostileRegistry> {
  const reg: HostileRegistry = { host: '', otherUrl: '', log: [], routes: [], stop: async () => undefined };
  const registry = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    reg.log.push({ host: 'registry', method: req.method ?? '', path: url.pathname, authorization: req.headers.authorization });
    if (reg.basic) {
      const want = 'Basic ' + Buffer.from(`${reg.basic.username}:${reg.basic.password}`).toString('base64');
      if (req.headers.authorization !== want) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="hostile"', 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"auth"}]}');
        return;
      }
    }
    if (url.pathname === '/v2/' || url.pathname === '/v2') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    for (const route of reg.routes) if (route(req, res, url) !== false) return;
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"NOT_FOUND","message":"no route"}]}');
  });
  const other = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    reg.log.push({ host: 'other', method: req.method ?? '', path: url.pathname, authorization: req.headers.authorization });
    for (const route of reg.routes) if (route(req, res, url) !== false) return;
    res.writeHead(404).end();
  });
  const port = await listen(registry, '127.0.0.1');
  const otherPort = await listen(other, '127.0.0.2');
  reg.host = `127.0.0.1:${port}`;
  reg.otherUrl = `http://127.0.0.2:${otherPort}`;
  reg.stop = async () => {
    for (const s of [registry, other]) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  };
  return reg;
}

/* ------------------------------------------------------------------ child runner */

export interface ChildOutcome {
  ok: boolean;
  /** Error name and message when not ok. */
  errorName?: string;
  error?: string;
  files?: number;
  paths?: string[];
  gaps?: string[];
  findings?: string[];
  /** Peak resident set size of the child, bytes. */
  maxRssBytes: number;
  ms: number;
  /** Entries left in the child's TMPDIR and cwd after it exited. */
  leftover: string[];
  stderr: string;
}

const CHILD = `
import fs from 'node:fs';
const [,, ref, optsJson] = process.argv;
const root = process.env.SMCL_ROOT;
const { loadImage } = await import(root + '/dist/src/sources/image/index.js');
const { wantedFileGlobs } = await import(root + '/dist/rules/index.js');
const { lintModel } = await import(root + '/dist/src/lint/lint-dockerfiles.js');
const t0 = performance.now();
const out = {};
try {
  const model = await loadImage(ref, { wantedGlobs: wantedFileGlobs(), ...JSON.parse(optsJson) });
  const result = lintModel(model, {});
  Object.assign(out, { ok: true, files: model.files.all().length, paths: model.files.all().map((f) => f.path).slice(0, 200000), gaps: model.gaps.map((g) => g.message), findings: result.findings.map((f) => f.ruleId) });
} catch (err) {
  Object.assign(out, { ok: false, errorName: err?.name, error: String(err?.message ?? err) });
}
out.ms = Math.round(performance.now() - t0);
// VmHWM: peak RSS of this process image. getrusage's maxRSS is no good here: Linux carries over
// the RSS of the forked parent (the test worker) into the child's maxRSS across exec.
let hwm;
try { hwm = Number(/VmHWM:\\s+(\\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024; } catch { hwm = process.resourceUsage().maxRSS * 1024; }
out.maxRssBytes = hwm;
process.stdout.write('RESULT ' + JSON.stringify(out) + '\\n');
`;

/**
 * Loads `ref` in a child node process (compiled sources), with an empty TMPDIR and cwd of its
 * own, and a hard timeout. `opts` are LoadImageOptions (JSON).
 */
export async function loadInChild(ref: string, opts: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<ChildOutcome> {
  const box = fs.mkdtempSync(path.join(os.tmpdir(), 'smcl-hostile-child-'));
  const tmp = path.join(box, 'tmp');
  const cwd = path.join(box, 'cwd');
  fs.mkdirSync(tmp);
  fs.mkdirSync(cwd);
  const script = path.join(box, 'child.mjs');
  fs.writeFileSync(script, CHILD);
  try {
    const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) => {
      const child = spawn(process.execPath, [script, ref, JSON.stringify(opts)], { cwd, env: { ...process.env, TMPDIR: tmp, SMCL_ROOT: ROOT }, stdio: ['ignore', 'pipe', 'pipe'] });
      let so = '';
      let se = '';
      child.stdout.on('data', (d: Buffer) => (so += d.toString()));
      child.stderr.on('data', (d: Buffer) => (se = (se + d.toString()).slice(-20_000)));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve({ stdout: so, stderr: se, code: c });
      });
    });
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`child produced no result (exit ${code}): ${stderr.slice(-2000)}`);
    const leftover = [...fs.readdirSync(tmp).map((n) => `TMPDIR/${n}`), ...fs.readdirSync(cwd).map((n) => `cwd/${n}`)];
    return { ...(JSON.parse(line.slice(7)) as Omit<ChildOutcome, 'leftover' | 'stderr'>), leftover, stderr };
  } finally {
    fs.rmSync(box, { recursive: true, force: true });
  }
}
