import { InputError } from '../../engine/types.js';
import { basicAuth, parseWwwAuthenticate, type AuthorizationProvider, type Credentials, type CredentialsProvider } from './auth.js';
import { DigestMismatchError, digestOf, parseDigest, verifyStream } from './digest.js';
import { HttpClient, HttpError, type HttpOptions, type HttpResponse } from './http.js';
import { MANIFEST_ACCEPT } from './manifest.js';
import { isLoopbackHost } from './reference.js';

export interface RegistryClientOptions extends HttpOptions {
  /** Plain http. Loopback hosts (localhost, 127.x, ::1) use http unless `insecure: false`. */
  insecure?: boolean;
  /** Username/password, or a provider called with the registry host. */
  credentials?: Credentials | CredentialsProvider;
  /** A complete Authorization header value provider (e.g. ECR): used instead of challenges. */
  authorization?: AuthorizationProvider;
  /** Largest manifest / config / token answer we accept. */
  maxDocumentBytes?: number;
}

export interface FetchedManifest {
  /** Digest of the bytes (verified against the requested digest or Docker-Content-Digest). */
  digest: string;
  /** Content-Type of the answer. */
  contentType: string | undefined;
  bytes: Buffer;
}

/** Turns a registry's JSON error body into a short text. */
function registryErrors(body: Buffer): string {
  try {
    const j = JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: string; message?: string }> };
    if (Array.isArray(j.errors) && j.errors.length) return j.errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
  } catch {
    /* not JSON */
  }
  return body.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200);
}

interface CachedToken {
  header: string;
  expires: number;
}

/**
 * Docker Registry HTTP API v2 client: anonymous, Bearer token (from the `WWW-Authenticate`
 * challenge) and Basic auth, or an injected Authorization provider (ECR). Errors are InputErrors
 * naming the registry/repository; blob streams are verified against their digest.
 */
export class RegistryClient {
  readonly baseUrl: string;
  private readonly http: HttpClient;
  private readonly tokens = new Map<string, CachedToken>();
  private basic: string | undefined;
  private readonly maxDoc: number;
  /** Every credential this client sent or received: never repeated in an error message. */
  private readonly secrets = new Set<string>();

  constructor(
    readonly registry: string,
    private readonly opts: RegistryClientOptions = {},
  ) {
    const insecure = opts.insecure ?? isLoopbackHost(registry);
    this.baseUrl = `${insecure ? 'http' : 'https'}://${registry}`;
    this.http = new HttpClient(opts);
    this.maxDoc = opts.maxDocumentBytes ?? 16 * 1024 * 1024;
  }

  private async credentials(): Promise<Credentials | undefined> {
    const c = this.opts.credentials;
    if (!c) return undefined;
    const creds = typeof c === 'function' ? await c(this.registry) : c;
    if (creds) this.remember(creds.password, basicAuth(creds));
    return creds;
  }

  /** Records secrets; an Authorization value also by its parts (`Basic <b64>`, the decoded `user:password`). */
  private remember(...values: Array<string | undefined>): void {
    for (const v of values) {
      if (!v || v.length < 4) continue;
      this.secrets.add(v);
      const m = /^(?:Basic|Bearer)\s+(.+)$/i.exec(v);
      if (m) {
        this.secrets.add(m[1]);
        if (/^basic/i.test(v)) {
          const plain = Buffer.from(m[1], 'base64').toString('utf8');
          const colon = plain.indexOf(':');
          if (colon >= 0 && plain.length - colon > 4) this.secrets.add(plain.slice(colon + 1));
        }
      }
    }
  }

  /**
   * Text a registry sent (error bodies, challenges) with every known secret masked: a hostile or
   * buggy registry that echoes the Authorization header must not make us print the password.
   */
  private redact(text: string): string {
    let out = text;
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
    return out;
  }

  /** Answers a challenge: fetches a bearer token for `scope`, or builds Basic auth. */
  private async answerChallenge(header: string | null, scope: string, repo: string): Promise<string> {
    const challenges = parseWwwAuthenticate(header ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const creds = await this.credentials();
    if (bearer) {
      const realm = bearer.params.realm;
      if (!realm) throw new InputError(`${this.registry}: Bearer challenge without realm`);
      let realmUrl: URL;
      try {
        realmUrl = new URL(realm);
      } catch {
        throw new InputError(`${this.registry}: invalid token realm "${realm}"`);
      }
      if (realmUrl.protocol !== 'https:' && realmUrl.protocol !== 'http:') throw new InputError(`${this.registry}: token realm must be http(s)`);
      if (bearer.params.service) realmUrl.searchParams.set('service', bearer.params.service);
      realmUrl.searchParams.append('scope', bearer.params.scope ?? scope);
      // Never send a password in clear text unless the registry itself is plain http by choice.
      const mayUseCreds = creds && (realmUrl.protocol === 'https:' || this.baseUrl.startsWith('http:'));
      let res: HttpResponse;
      try {
        res = await this.http.request(realmUrl.toString(), { kind: 'document', authorization: mayUseCreds ? basicAuth(creds) : undefined });
      } catch (err) {
        throw new InputError(`${this.registry}: cannot get a token from ${realmUrl.host}: ${(err as Error).message}`);
      }
      const body = await res.bytes(this.maxDoc).catch((err: Error) => {
        throw new InputError(`${this.registry}: reading token from ${realmUrl.host}: ${err.message}`);
      });
      if (res.status === 401 || res.status === 403) {
        throw new InputError(
          creds
            ? `authentication failed for ${this.registry}/${repo}: the token server rejected the credentials for user "${creds.username}" (HTTP ${res.status})`
            : `authentication required for ${this.registry}/${repo}: no credentials found (log in with podman/docker login or pass username/password)`,
        );
      }
      if (res.status !== 200) throw new InputError(`${this.registry}: token server ${realmUrl.host} answered HTTP ${res.status}: ${this.redact(registryErrors(body))}`);
      let token: string | undefined;
      let expiresIn = 60;
      try {
        const j = JSON.parse(body.toString('utf8')) as { token?: string; access_token?: string; expires_in?: number };
        token = j.token || j.access_token;
        if (typeof j.expires_in === 'number' && j.expires_in > 0) expiresIn = j.expires_in;
      } catch {
        /* handled below */
      }
      if (!token) throw new InputError(`${this.registry}: token server ${realmUrl.host} returned no token`);
      const value = `Bearer ${token}`;
      this.remember(value);
      this.tokens.set(scope, { header: value, expires: Date.now() + Math.max(10, expiresIn - 10) * 1000 });
      return value;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (!creds) throw new InputError(`authentication required for ${this.registry}/${repo}: no credentials found (log in with podman/docker login or pass username/password)`);
      if (this.baseUrl.startsWith('http:') && !isLoopbackHost(this.registry) && this.opts.insecure !== true) {
        throw new InputError(`${this.registry}: refusing to send a password over plain http`);
      }
      this.basic = basicAuth(creds);
      return this.basic;
    }
    throw new InputError(`${this.registry}/${repo}: HTTP 401 with no usable authentication challenge ("${this.redact(header ?? '').slice(0, 100)}")`);
  }

  /** A request to the registry with authentication, retrying once after a 401 challenge. */
  private async send(path: string, repo: string, kind: 'document' | 'blob', headers?: Record<string, string>): Promise<HttpResponse> {
    const scope = `repository:${repo}:pull`;
    const url = `${this.baseUrl}${path}`;
    const injected = this.opts.authorization ? await this.opts.authorization(this.registry) : undefined;
    this.remember(injected);
    let auth = injected;
    if (!auth) {
      const cached = this.tokens.get(scope);
      auth = cached && cached.expires > Date.now() ? cached.header : this.basic;
    }
    for (let round = 0; ; round++) {
      let res: HttpResponse;
      try {
        res = await this.http.request(url, { kind, headers, authorization: auth });
      } catch (err) {
        if (err instanceof HttpError) throw new InputError(`${this.registry}/${repo}: ${err.message}`, { cause: err });
        throw err;
      }
      if (res.status !== 401) return res;
      const challenge = res.headers.get('www-authenticate');
      res.discard();
      if (round > 0 || injected) {
        throw new InputError(`authentication failed for ${this.registry}/${repo}: the registry rejected the ${injected ? 'provided authorization' : 'credentials'} (HTTP 401)`);
      }
      this.tokens.delete(scope);
      auth = await this.answerChallenge(challenge, scope, repo);
    }
  }

  private async fail(res: HttpResponse, what: string): Promise<never> {
    const body = await res.bytes(64 * 1024).catch(() => Buffer.alloc(0));
    const detail = this.redact(registryErrors(body));
    const retried = res.attempts > 1 ? ` after ${res.attempts} attempts` : '';
    const why =
      res.status === 404 ? 'not found' : res.status === 403 ? 'access denied' : res.status === 429 ? 'rate limited' : res.status >= 500 ? 'server error' : 'unexpected answer';
    throw new InputError(`${what}: ${why} (HTTP ${res.status}${retried})${detail ? `: ${detail}` : ''}`);
  }

  /** GET /v2/ (checks the registry answers and that we may talk to it). */
  async ping(): Promise<void> {
    const res = await this.send('/v2/', '', 'document');
    if (res.status !== 200) await this.fail(res, `${this.registry}`);
    res.discard();
  }

  /** Fetches a manifest or index by tag or digest; verifies the bytes against the digest. */
  async getManifest(repo: string, reference: string, opts: { accept?: string } = {}): Promise<FetchedManifest> {
    const what = `manifest ${this.registry}/${repo}${reference.includes(':') ? '@' : ':'}${reference}`;
    const res = await this.send(`/v2/${repo}/manifests/${encodeURIComponent(reference)}`, repo, 'document', { accept: opts.accept ?? MANIFEST_ACCEPT });
    if (res.status !== 200) await this.fail(res, what);
    let bytes: Buffer;
    try {
      bytes = await res.bytes(this.maxDoc);
    } catch (err) {
      throw new InputError(`${what}: ${(err as Error).message}`);
    }
    const expected = reference.includes(':') ? reference : (res.headers.get('docker-content-digest') ?? undefined);
    let digest = digestOf(bytes);
    if (expected) {
      const p = parseDigest(expected, `${what} digest`);
      digest = digestOf(bytes, p.algorithm);
      if (digest !== expected) throw new DigestMismatchError(what, expected, digest);
    }
    return { digest, contentType: res.headers.get('content-type') ?? undefined, bytes };
  }

  /**
   * Streams a blob, following redirects to storage (without our Authorization), verifying the
   * sha256 while streaming: the iterator throws DigestMismatchError at the end on a mismatch.
   */
  async getBlob(repo: string, digest: string, opts: { size?: number } = {}): Promise<AsyncGenerator<Buffer>> {
    parseDigest(digest, 'blob digest');
    const what = `blob ${digest} of ${this.registry}/${repo}`;
    const res = await this.send(`/v2/${repo}/blobs/${digest}`, repo, 'blob');
    if (res.status !== 200) await this.fail(res, what);
    async function* wrapped(): AsyncGenerator<Buffer> {
      try {
        yield* verifyStream(res.body(), digest, what, opts.size);
      } catch (err) {
        if (err instanceof HttpError) {
          const e = new InputError(`${what}: ${err.message}`, { cause: err });
          (e as InputError & { retryable?: boolean }).retryable = err.retryable;
          throw e;
        }
        throw err;
      }
    }
    return wrapped();
  }

  /** A whole small blob (config), verified. */
  async getBlobBytes(repo: string, digest: string, maxBytes = this.maxDoc, size?: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let n = 0;
    for await (const c of await this.getBlob(repo, digest, { size })) {
      n += c.length;
      if (n > maxBytes) throw new InputError(`blob ${digest} of ${this.registry}/${repo} is larger than ${maxBytes} bytes`);
      parts.push(c);
    }
    return Buffer.concat(parts);
  }

  /** All tags of a repository (follows `Link: <...>; rel="next"` pagination). */
  async listTags(repo: string, opts: { pageSize?: number; maxPages?: number } = {}): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repo}/tags/list${opts.pageSize ? `?n=${opts.pageSize}` : ''}`;
    for (let page = 0; path && page < (opts.maxPages ?? 1000); page++) {
      const res = await this.send(path, repo, 'document');
      if (res.status !== 200) await this.fail(res, `tags of ${this.registry}/${repo}`);
      const j = JSON.parse((await res.bytes(this.maxDoc)).toString('utf8')) as { tags?: string[] | null };
      tags.push(...(j.tags ?? []));
      const link = res.headers.get('link');
      const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
      if (!m) break;
      const next = new URL(m[1], this.baseUrl);
      if (next.origin !== new URL(this.baseUrl).origin) break;
      path = next.pathname + next.search;
    }
    return tags;
  }
}
