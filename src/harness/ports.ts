import { promises as fs, readFileSync } from 'node:fs';
import net from 'node:net';
import { InputError } from '../engine/types.js';

/**
 * Port selection and port inspection.
 *
 * How the container's own listening sockets are found (host network):
 *  1. `/proc/<init-pid>/net/tcp` and `tcp6` list every TCP socket of the container's network
 *     namespace. With `--network host` that is the host's namespace: every socket of the machine.
 *  2. A socket belongs to a process when one of its `/proc/<pid>/fd/*` links reads
 *     `socket:[<inode>]` with the inode of the socket's row.
 *  3. The container's processes are all processes in the container's PID namespace
 *     (`/proc/<pid>/ns/pid` equal to the init pid's link). That includes processes forked by the
 *     server and `exec`'d ones, works for podman and docker, cgroup v1 and v2. When the container
 *     shares the host's PID namespace (`--pid host` in engine args), the container's cgroup
 *     (`/proc/<init-pid>/cgroup` → `cgroup.procs`) is used instead.
 * Only rows in state LISTEN (0A) whose inode is held by a container process are the container's.
 */

export interface ListeningPort {
  port: number;
  /** Local address, e.g. `0.0.0.0`, `127.0.0.1`, `::`. */
  address: string;
  family: 'tcp' | 'tcp6';
  inode: number;
}

export interface SocketRow {
  localAddress: string;
  localPort: number;
  state: number;
  inode: number;
  family: 'tcp' | 'tcp6';
}

const TCP_LISTEN = 0x0a;

function ipv4FromHex(hex: string): string {
  // One 32-bit word in host (little-endian) byte order.
  const bytes = [0, 1, 2, 3].map((i) => Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16)).reverse();
  return bytes.join('.');
}

function ipv6FromHex(hex: string): string {
  // Four 32-bit words, each in host (little-endian) byte order.
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    const b = [0, 1, 2, 3].map((i) => Number.parseInt(word.slice(i * 2, i * 2 + 2), 16)).reverse();
    bytes.push(...b);
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  // Compress the longest run of zero groups (RFC 5952).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}

/** Parses the text of `/proc/<pid>/net/tcp` or `tcp6`. */
export function parseProcNetTcp(text: string, family: 'tcp' | 'tcp6'): SocketRow[] {
  const rows: SocketRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [addrHex, portHex] = f[1].split(':');
    if (!addrHex || !portHex) continue;
    rows.push({
      localAddress: family === 'tcp' ? ipv4FromHex(addrHex) : ipv6FromHex(addrHex),
      localPort: Number.parseInt(portHex, 16),
      state: Number.parseInt(f[3], 16),
      inode: Number(f[9]),
      family,
    });
  }
  return rows;
}

async function readText(p: string): Promise<string | undefined> {
  try {
    return await fs.readFile(p, 'utf8');
  } catch {
    return undefined;
  }
}

/** All TCP sockets (v4 and v6) of the network namespace that `pid` is in (`self` by default). */
export async function socketsOf(pid: number | 'self' = 'self'): Promise<SocketRow[]> {
  const v4 = await readText(`/proc/${pid}/net/tcp`);
  const v6 = await readText(`/proc/${pid}/net/tcp6`);
  if (v4 === undefined && v6 === undefined) throw new Error(`cannot read /proc/${pid}/net/tcp`);
  return [...parseProcNetTcp(v4 ?? '', 'tcp'), ...parseProcNetTcp(v6 ?? '', 'tcp6')];
}

/** Local ports in use (any state, TCP and UDP) in this process's network namespace. */
export function usedLocalPorts(): Set<number> {
  const used = new Set<number>();
  for (const file of ['tcp', 'tcp6', 'udp', 'udp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/self/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const row of parseProcNetTcp(text, file.endsWith('6') ? 'tcp6' : 'tcp')) used.add(row.localPort);
  }
  return used;
}

async function linkOf(p: string): Promise<string | undefined> {
  try {
    return await fs.readlink(p);
  } catch {
    return undefined;
  }
}

async function numericDirs(dir: string): Promise<number[]> {
  try {
    return (await fs.readdir(dir)).filter((n) => /^\d+$/.test(n)).map(Number);
  } catch {
    return [];
  }
}

/** Host pids of the container whose init process is `initPid` (see the module comment). */
export async function containerPids(initPid: number): Promise<number[]> {
  const ns = await linkOf(`/proc/${initPid}/ns/pid`);
  if (!ns) return [];
  const ownNs = await linkOf('/proc/self/ns/pid');
  if (ns !== ownNs) {
    const pids: number[] = [];
    for (const pid of await numericDirs('/proc')) {
      if ((await linkOf(`/proc/${pid}/ns/pid`)) === ns) pids.push(pid);
    }
    return pids;
  }
  return cgroupPids(initPid);
}

async function cgroupPids(initPid: number): Promise<number[]> {
  const text = await readText(`/proc/${initPid}/cgroup`);
  if (!text) return [initPid];
  const candidates: string[] = [];
  for (const line of text.trim().split('\n')) {
    const [, controllers, cgPath] = line.split(':');
    if (!cgPath || cgPath === '/') continue;
    if (controllers === '') candidates.push(`/sys/fs/cgroup${cgPath}/cgroup.procs`);
    else if (!controllers.startsWith('name=')) candidates.push(`/sys/fs/cgroup/${controllers}${cgPath}/cgroup.procs`);
  }
  for (const c of candidates) {
    const procs = await readText(c);
    if (procs) return procs.trim().split('\n').filter(Boolean).map(Number);
  }
  return [initPid];
}

/** Socket inodes held open by the given processes. */
export async function socketInodes(pids: number[]): Promise<Set<number>> {
  const inodes = new Set<number>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await fs.readdir(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      const l = await linkOf(`/proc/${pid}/fd/${fd}`);
      const m = l && /^socket:\[(\d+)\]$/.exec(l);
      if (m) inodes.add(Number(m[1]));
    }
  }
  return inodes;
}

/**
 * TCP ports the container listens on, or undefined when /proc cannot tell (no permission,
 * not Linux, container already gone).
 */
export async function containerListeningPorts(initPid: number): Promise<ListeningPort[] | undefined> {
  if (!initPid) return undefined;
  let rows: SocketRow[];
  try {
    rows = await socketsOf(initPid);
  } catch {
    return undefined;
  }
  const pids = await containerPids(initPid);
  if (pids.length === 0) return undefined;
  const inodes = await socketInodes(pids);
  const seen = new Set<string>();
  const out: ListeningPort[] = [];
  for (const r of rows) {
    if (r.state !== TCP_LISTEN || !inodes.has(r.inode)) continue;
    const key = `${r.family}/${r.localAddress}/${r.localPort}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ port: r.localPort, address: r.localAddress, family: r.family, inode: r.inode });
  }
  return out.sort((a, b) => a.port - b.port || a.family.localeCompare(b.family));
}

/** True when a TCP server can listen on `port` on all addresses right now. */
export function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '::', ipv6Only: false, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export interface PortPlan {
  bindPort: number;
  safeRange: [number, number];
}

export interface PortPlanOptions {
  port?: number;
  safePortRange?: [number, number];
  /** Size of the generated safe range (default 1000). */
  safePortRangeSize?: number;
  random?: () => number;
  /** The ports in use on the host (default: read from /proc); injectable for tests. */
  usedPorts?: () => Set<number>;
}

const LOW = 10_000;
const HIGH = 60_000;

/**
 * Picks `SAGEMAKER_BIND_TO_PORT` (a free port, never 8080 unless asked for) and
 * `SAGEMAKER_SAFE_PORT_RANGE` (a range with no port in use, not containing 8080 nor the bind
 * port). Explicit choices that are taken are input errors.
 */
export async function planPorts(opts: PortPlanOptions = {}): Promise<PortPlan> {
  const random = opts.random ?? Math.random;
  const size = opts.safePortRangeSize ?? 1000;
  const used = (opts.usedPorts ?? usedLocalPorts)();
  let bindPort = opts.port;
  if (bindPort !== undefined) {
    if (!Number.isInteger(bindPort) || bindPort < 1 || bindPort > 65535) throw new InputError(`invalid port ${bindPort}`);
    if (!(await canListen(bindPort))) throw new InputError(`port ${bindPort} is already in use on this host`);
  } else {
    for (let i = 0; i < 200 && bindPort === undefined; i++) {
      const p = LOW + Math.floor(random() * (HIGH - LOW));
      if (p === 8080 || used.has(p)) continue;
      if (await canListen(p)) bindPort = p;
    }
    if (bindPort === undefined) throw new InputError('could not find a free port to assign as SAGEMAKER_BIND_TO_PORT');
  }
  const bp = bindPort;
  const clashes = (lo: number, hi: number): boolean => {
    if (bp >= lo && bp <= hi) return true;
    if (8080 >= lo && 8080 <= hi) return true;
    for (const u of used) if (u >= lo && u <= hi) return true;
    return false;
  };
  if (opts.safePortRange) {
    const [lo, hi] = opts.safePortRange;
    if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 1 && hi <= 65535 && lo <= hi)) {
      throw new InputError(`invalid safe port range ${lo}-${hi}`);
    }
    if (bp >= lo && bp <= hi) throw new InputError(`safe port range ${lo}-${hi} contains the bind port ${bp}`);
    for (const u of used) if (u >= lo && u <= hi) throw new InputError(`port ${u} of the safe port range ${lo}-${hi} is already in use on this host`);
    return { bindPort: bp, safeRange: [lo, hi] };
  }
  for (let i = 0; i < 500; i++) {
    const lo = LOW + Math.floor(random() * (HIGH - LOW - size));
    const hi = lo + size - 1;
    if (!clashes(lo, hi)) return { bindPort: bp, safeRange: [lo, hi] };
  }
  throw new InputError(`could not find ${size} consecutive free ports for SAGEMAKER_SAFE_PORT_RANGE`);
}

/** Parses `XXXX-YYYY` (inclusive). */
export function parsePortRange(text: string): [number, number] | undefined {
  const m = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(text);
  if (!m) return undefined;
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  if (lo < 1 || hi > 65535 || lo > hi) return undefined;
  return [lo, hi];
}
