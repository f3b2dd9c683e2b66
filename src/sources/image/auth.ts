import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Credentials {
  username: string;
  password: string;
}

/** Returns credentials for a registry host (e.g. from a keychain); undefined = anonymous. */
export type CredentialsProvider = (registry: string) => Promise<Credentials | undefined> | Credentials | undefined;

/**
 * Returns a complete Authorization header value for a registry host, e.g. `Basic <token>` built
 * from ECR's GetAuthorizationToken. When given it is used as is: no challenge/token dance.
 */
export type AuthorizationProvider = (registry: string) => Promise<string | undefined> | string | undefined;

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` header: `Bearer realm="https://a/token",service="reg",scope="repository:x:pull"`.
 * Several challenges may be comma-separated; each starts with a scheme token.
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const s = header;
  const skipWs = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
  };
  while (i < s.length) {
    skipWs();
    const m = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+/.exec(s.slice(i));
    if (!m) break;
    const token = m[0];
    i += token.length;
    if (s[i] === '=') {
      // A parameter of the current challenge.
      i++;
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i++];
        }
        i++;
      } else {
        const v = /^[^,\s]*/.exec(s.slice(i))![0];
        value = v;
        i += v.length;
      }
      const cur = out[out.length - 1];
      if (cur) cur.params[token.toLowerCase()] = value;
    } else {
      out.push({ scheme: token.toLowerCase(), params: {} });
    }
  }
  return out;
}

interface AuthFileEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}
interface AuthFile {
  auths?: Record<string, AuthFileEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** Files searched for `auths`, in order (podman's, then docker's). */
export function authFilePaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME || os.homedir();
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) files.push(path.join(env.XDG_RUNTIME_DIR, 'containers/auth.json'));
  files.push(path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'containers/auth.json'));
  files.push(path.join(env.DOCKER_CONFIG || path.join(home, '.docker'), 'config.json'));
  return files;
}

/** Keys under which a host may appear in `auths` (docker writes URLs, Docker Hub has legacy names). */
function keysFor(domain: string): string[] {
  const hub = domain === 'docker.io' || domain === 'registry-1.docker.io' || domain === 'index.docker.io';
  const hosts = hub ? ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/'] : [domain];
  const keys: string[] = [];
  for (const h of hosts) keys.push(h, `https://${h}`, `http://${h}`, `https://${h}/v1/`, `https://${h}/v2/`);
  return keys;
}

function decodeEntry(e: AuthFileEntry): Credentials | undefined {
  if (e.username && e.password) return { username: e.username, password: e.password };
  if (e.auth) {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i > 0) return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
  }
  return undefined;
}

/** Runs `docker-credential-<helper> get` (argument array, no shell) with the host on stdin. */
function fromHelper(helper: string, host: string): Promise<Credentials | undefined> {
  if (!/^[A-Za-z0-9_.-]+$/.test(helper)) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const child = execFile(`docker-credential-${helper}`, ['get'], { timeout: 15_000, maxBuffer: 1024 * 1024 }, (err, stdout) => {
      if (err) return resolve(undefined);
      try {
        const j = JSON.parse(stdout) as { Username?: string; Secret?: string };
        resolve(j.Username && j.Secret ? { username: j.Username, password: j.Secret } : undefined);
      } catch {
        resolve(undefined);
      }
    });
    child.on('error', () => resolve(undefined));
    child.stdin?.end(host);
  });
}

/**
 * Credentials for `domain` (as in the image reference, e.g. `docker.io`, `ghcr.io`,
 * `127.0.0.1:5000`) and repository, from the first auth file that has them. Podman's files may
 * hold per-repository keys (`host/namespace`): the longest matching one wins.
 */
export async function credentialsFromAuthFiles(domain: string, repository: string, env: NodeJS.ProcessEnv = process.env): Promise<Credentials | undefined> {
  for (const file of authFilePaths(env)) {
    let parsed: AuthFile;
    try {
      parsed = JSON.parse(await fs.readFile(file, 'utf8')) as AuthFile;
    } catch {
      continue;
    }
    const auths = parsed.auths ?? {};
    // Repository-scoped keys first, longest first.
    const parts = repository.split('/');
    for (let n = parts.length; n >= 1; n--) {
      const key = `${domain}/${parts.slice(0, n).join('/')}`;
      const c = auths[key] && decodeEntry(auths[key]);
      if (c) return c;
    }
    for (const key of keysFor(domain)) {
      const c = auths[key] && decodeEntry(auths[key]);
      if (c) return c;
    }
    const helper = parsed.credHelpers?.[domain] ?? parsed.credsStore;
    if (helper) {
      const c = await fromHelper(helper, domain);
      if (c) return c;
    }
  }
  return undefined;
}

export function basicAuth(c: Credentials): string {
  return 'Basic ' + Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64');
}
