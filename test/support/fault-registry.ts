/**
 * A tiny Docker Registry v2 server on 127.0.0.1 (free port) that serves synthetic images and can
 * misbehave on demand, for testing the registry client's error handling without a network.
 * Blob redirects go to a second server on 127.0.0.2 (also loopback), which records whether an
 * Authorization header reached it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BuiltImage } from './synthetic-image.js';

export interface Faults {
  /** Require auth. Bearer: challenge + token endpoint `/token`; Basic: plain challenge. */
  auth?: { scheme: 'bearer' | 'basic'; username: string; password: string };
  /** 404 for every manifest. */
  manifest404?: boolean;
  /** 404 for this blob digest (or all blobs when true). */
  blob404?: string | boolean;
  /** Answer 429 (Retry-After: 0) this many times per path before succeeding. */
  tooManyRequests?: number;
  /** 500 for every request. */
  serverError?: boolean;
  /** Serve different bytes for this blob digest. */
  lyingBlob?: string;
  /** Send manifests one byte every N ms. */
  slowManifestMs?: number;
  /** Send blobs one byte every N ms. */
  slowBlobMs?: number;
  /** Only this blob is slow (with slowBlobMs). */
  slowBlobDigest?: string;
  /** Never answer manifest requests. */
  hangManifest?: boolean;
  /** Redirect blob requests (307) to the storage server on 127.0.0.2. */
  redirectBlobs?: boolean;
}

export interface LoggedRequest {
  server: 'registry' | 'storage';
  method: string;
  path: string;
  authorization?: string;
}

export interface FaultRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  faults: Faults;
  log: LoggedRequest[];
  /** Serves `image` as repo:tag (and by digest). An index can be served instead with `index`. */
  addImage(repo: string, tag: string, image: BuiltImage): void;
  addIndex(repo: string, tag: string, index: { bytes: Buffer; digest: string; mediaType: string }, images: BuiltImage[]): void;
  stop(): Promise<void>;
}

interface Doc {
  bytes: Buffer;
  mediaType: string;
}

function listen(server: http.Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

async function sendSlow(res: http.ServerResponse, body: Buffer, ms: number): Promise<void> {
  for (let i = 0; i < body.length; i++) {
    if (res.destroyed || res.writableEnded) return;
    res.write(body.subarray(i, i + 1));
    await new Promise((r) => setTimeout(r, ms));
  }
  res.end();
}

export async function startFaultRegistry(faults: Faults = {}): Promise<FaultRegistry> {
  const manifests = new Map<string, Map<string, Doc>>(); // repo → tag|digest → doc
  const blobs = new Map<string, Buffer>(); // digest → bytes (shared by all repos)
  const log: LoggedRequest[] = [];
  const counts = new Map<string, number>();
  const token = 'tok-' + Math.random().toString(36).slice(2);
  const state: { faults: Faults } = { faults };
  let storagePort = 0;
  let registryPort = 0;

  const sendBlob = async (res: http.ServerResponse, digest: string): Promise<void> => {
    let body = blobs.get(digest);
    if (!body) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] }));
      return;
    }
    if (state.faults.lyingBlob === digest) {
      body = Buffer.from(body);
      body[body.length - 1] ^= 0xff;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length), 'docker-content-digest': digest });
    if (state.faults.slowBlobMs && (!state.faults.slowBlobDigest || state.faults.slowBlobDigest === digest)) await sendSlow(res, body, state.faults.slowBlobMs);
    else res.end(body);
  };

  const storage = http.createServer((req, res) => {
    log.push({ server: 'storage', method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization });
    const m = /^\/storage\/(sha256:[a-f0-9]{64})/.exec(req.url ?? '');
    if (!m) return void res.writeHead(404).end();
    void sendBlob(res, m[1]);
  });

  const registry = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${registryPort}`);
    log.push({ server: 'registry', method: req.method ?? '', path: url.pathname + url.search, authorization: req.headers.authorization });
    const f = state.faults;
    const err = (status: number, code: string, message: string, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ errors: [{ code, message }] }));
    };
    if (url.pathname === '/token') {
      const expected = f.auth ? 'Basic ' + Buffer.from(`${f.auth.username}:${f.auth.password}`).toString('base64') : undefined;
      if (req.headers.authorization !== expected) return err(401, 'UNAUTHORIZED', 'bad credentials');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
      return;
    }
    if (f.serverError) return err(500, 'INTERNAL', 'boom');
    if (f.tooManyRequests) {
      const n = counts.get(url.pathname) ?? 0;
      counts.set(url.pathname, n + 1);
      if (n < f.tooManyRequests) return err(429, 'TOOMANYREQUESTS', 'slow down', { 'retry-after': '0' });
    }
    if (f.auth) {
      const ok =
        f.auth.scheme === 'bearer'
          ? req.headers.authorization === `Bearer ${token}`
          : req.headers.authorization === 'Basic ' + Buffer.from(`${f.auth.username}:${f.auth.password}`).toString('base64');
      if (!ok) {
        const challenge =
          f.auth.scheme === 'bearer'
            ? `Bearer realm="http://127.0.0.1:${registryPort}/token",service="fault-registry",scope="repository:${url.pathname.split('/').slice(2, -2).join('/')}:pull"`
            : 'Basic realm="fault-registry"';
        return err(401, 'UNAUTHORIZED', 'authentication required', { 'www-authenticate': challenge });
      }
    }
    if (url.pathname === '/v2/' || url.pathname === '/v2') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    const m = /^\/v2\/(.+)\/(manifests|blobs|tags)\/([^/]+)$/.exec(url.pathname);
    if (!m) return err(404, 'NOT_FOUND', 'no route');
    const [, repo, kind, ref] = m;
    if (kind === 'tags') {
      const tags = [...(manifests.get(repo)?.keys() ?? [])].filter((t) => !t.startsWith('sha256:'));
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: repo, tags }));
    }
    if (kind === 'manifests') {
      if (f.hangManifest) return; // never answer
      const doc = manifests.get(repo)?.get(decodeURIComponent(ref));
      if (f.manifest404 || !doc) return err(404, 'MANIFEST_UNKNOWN', 'manifest unknown');
      res.writeHead(200, { 'content-type': doc.mediaType, 'content-length': String(doc.bytes.length) });
      if (f.slowManifestMs) void sendSlow(res, doc.bytes, f.slowManifestMs);
      else res.end(doc.bytes);
      return;
    }
    if (f.blob404 === true || f.blob404 === ref) return err(404, 'BLOB_UNKNOWN', 'blob unknown to registry');
    if (f.redirectBlobs) {
      res.writeHead(307, { location: `http://127.0.0.2:${storagePort}/storage/${ref}?sig=abc` }).end();
      return;
    }
    void sendBlob(res, ref);
  });

  registryPort = await listen(registry, '127.0.0.1');
  storagePort = await listen(storage, '127.0.0.2');

  const put = (repo: string, key: string, doc: Doc): void => {
    if (!manifests.has(repo)) manifests.set(repo, new Map());
    manifests.get(repo)!.set(key, doc);
  };
  const addImage = (repo: string, tag: string, image: BuiltImage): void => {
    const doc = { bytes: image.manifest, mediaType: image.manifestMediaType };
    put(repo, tag, doc);
    put(repo, image.manifestDigest, doc);
    for (const [d, b] of image.blobs) blobs.set(d, b);
  };

  return {
    host: `127.0.0.1:${registryPort}`,
    get faults() {
      return state.faults;
    },
    set faults(v: Faults) {
      state.faults = v;
    },
    log,
    addImage,
    addIndex(repo, tag, index, images) {
      for (const im of images) addImage(repo, im.manifestDigest, im);
      const doc = { bytes: index.bytes, mediaType: index.mediaType };
      put(repo, tag, doc);
      put(repo, index.digest, doc);
    },
    async stop() {
      for (const s of [registry, storage]) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    },
  };
}
