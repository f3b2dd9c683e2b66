/**
 * A small HTTP layer over global fetch (undici) for registry traffic:
 * - redirects are followed by hand so the Authorization header is only ever sent to the origin
 *   it was meant for (blob redirects to object storage are followed without it);
 * - bounded retries with exponential backoff (honouring Retry-After) on 429, 5xx and network errors;
 * - timeouts: a deadline for response headers, an overall deadline for small documents,
 *   and for blobs an idle timeout plus a minimum average speed, so a server that answers
 *   one byte at a time cannot hang us.
 */

export interface HttpTimeouts {
  /** Connect + response headers. */
  headersMs: number;
  /** Whole request, body included, for manifests, configs and tokens. */
  documentMs: number;
  /** No body byte for this long → abort (blobs). */
  idleMs: number;
  /** Blobs: abort when fewer than `lowSpeedBytes` arrived during `lowSpeedWindowMs`. */
  lowSpeedBytes: number;
  lowSpeedWindowMs: number;
}

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_TIMEOUTS: HttpTimeouts = {
  headersMs: 30_000,
  documentMs: 60_000,
  idleMs: 60_000,
  lowSpeedBytes: 1024,
  lowSpeedWindowMs: 60_000,
};

export const DEFAULT_RETRY: RetryPolicy = { retries: 4, baseDelayMs: 500, maxDelayMs: 15_000 };

export interface HttpOptions {
  timeouts?: Partial<HttpTimeouts>;
  retry?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  userAgent?: string;
  maxRedirects?: number;
  /** For tests and proxies; defaults to the global fetch. */
  fetch?: typeof fetch;
}

/** A transport-level failure. `retryable` errors may succeed on another attempt. */
export class HttpError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface RequestOptions {
  method?: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  /** Authorization header value; sent only to the origin of `url`, never across a redirect to another origin. */
  authorization?: string;
  /** `document`: small JSON with an overall deadline; `blob`: streamed with idle/low-speed checks. */
  kind: 'document' | 'blob';
  /** Statuses that should not be retried even though they are 5xx/429 (none by default). */
  noRetry?: (status: number) => boolean;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** URL that answered (after redirects). */
  url: string;
  /** Number of attempts that were made. */
  attempts: number;
  /** The body, chunk by chunk, under the timeouts; read at most once. */
  body(): AsyncGenerator<Buffer>;
  /** Whole body, refusing more than maxBytes. */
  bytes(maxBytes: number): Promise<Buffer>;
  /** Releases the connection without reading the body. */
  discard(): void;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(abortReason(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

function abortReason(signal: AbortSignal): Error {
  const r = signal.reason;
  return r instanceof Error ? r : new HttpError('aborted', false);
}

class TimeoutError extends HttpError {
  constructor(message: string) {
    super(message, true);
  }
}

function describeNetworkError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause;
  if (cause && (cause.code || cause.message)) return `${cause.code ?? ''}${cause.code && cause.message ? ' ' : ''}${cause.message ?? ''}`.trim();
  return e.message;
}

export class HttpClient {
  readonly timeouts: HttpTimeouts;
  readonly retry: RetryPolicy;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly opts: HttpOptions = {}) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...(opts.timeouts ?? {}) };
    this.retry = { ...DEFAULT_RETRY, ...(opts.retry ?? {}) };
    this.fetchImpl = opts.fetch ?? fetch;
  }

  /** Backoff before retry `attempt` (1-based): exponential with jitter, or the server's Retry-After. */
  private delay(attempt: number, retryAfter: string | null): number {
    const { baseDelayMs, maxDelayMs } = this.retry;
    if (retryAfter) {
      const secs = Number(retryAfter);
      const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(retryAfter) - Date.now();
      if (Number.isFinite(ms) && ms >= 0) return Math.min(ms, maxDelayMs);
    }
    const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    return exp / 2 + Math.random() * (exp / 2);
  }

  /**
   * Sends a request, retrying transient failures. Returns the final response whatever its status
   * (after retries a 5xx is returned, not thrown); throws HttpError on network errors/timeouts.
   */
  async request(url: string, ro: RequestOptions): Promise<HttpResponse> {
    let lastError: unknown;
    const max = this.retry.retries + 1;
    for (let attempt = 1; attempt <= max; attempt++) {
      let res: HttpResponse;
      try {
        res = await this.once(url, ro, attempt);
      } catch (err) {
        if (this.opts.signal?.aborted) throw abortReason(this.opts.signal);
        lastError = err;
        if (err instanceof HttpError && !err.retryable) throw err;
        if (attempt < max) {
          await sleep(this.delay(attempt, null), this.opts.signal);
          continue;
        }
        const msg = err instanceof Error ? err.message : String(err);
        throw new HttpError(`${msg} (after ${attempt} attempt${attempt > 1 ? 's' : ''})`, false);
      }
      const transient = res.status === 429 || res.status >= 500;
      if (transient && !(ro.noRetry?.(res.status) ?? false) && attempt < max) {
        res.discard();
        await sleep(this.delay(attempt, res.headers.get('retry-after')), this.opts.signal);
        continue;
      }
      return res;
    }
    throw lastError;
  }

  private async once(url: string, ro: RequestOptions, attempt: number): Promise<HttpResponse> {
    const maxRedirects = this.opts.maxRedirects ?? 5;
    let current = new URL(url);
    const authOrigin = current.origin;
    let sendAuth = ro.authorization !== undefined;
    const t = this.timeouts;
    const ctrl = new AbortController();
    const userSignal = this.opts.signal;
    const onUserAbort = (): void => ctrl.abort(abortReason(userSignal!));
    if (userSignal?.aborted) throw abortReason(userSignal);
    userSignal?.addEventListener('abort', onUserAbort, { once: true });
    const timers = new Set<NodeJS.Timeout>();
    const arm = (ms: number, message: string): NodeJS.Timeout => {
      const timer = setTimeout(() => ctrl.abort(new TimeoutError(message)), ms);
      timers.add(timer);
      return timer;
    };
    const cleanup = (): void => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      userSignal?.removeEventListener('abort', onUserAbort);
    };
    if (ro.kind === 'document') arm(t.documentMs, `no complete answer within ${t.documentMs} ms from ${current.host}`);
    const headersTimer = arm(t.headersMs, `no response within ${t.headersMs} ms from ${current.host}`);
    let response: Response;
    try {
      for (let hops = 0; ; hops++) {
        sendAuth = sendAuth && current.origin === authOrigin;
        const headers: Record<string, string> = { 'user-agent': this.opts.userAgent ?? 'sagemaker-container-lint', ...(ro.headers ?? {}) };
        if (sendAuth) headers.authorization = ro.authorization!;
        try {
          response = await this.fetchImpl(current, { method: ro.method ?? 'GET', headers, redirect: 'manual', signal: ctrl.signal });
        } catch (err) {
          if (ctrl.signal.aborted) throw ctrl.signal.reason;
          throw new HttpError(`cannot reach ${current.host}: ${describeNetworkError(err)}`, true);
        }
        const location = response.headers.get('location');
        if ([301, 302, 303, 307, 308].includes(response.status) && location) {
          await response.body?.cancel().catch(() => undefined);
          if (hops >= maxRedirects) throw new HttpError(`too many redirects from ${url}`, false);
          const next = new URL(location, current);
          if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new HttpError(`refusing redirect to ${next.protocol} URL`, false);
          current = next;
          continue;
        }
        break;
      }
    } catch (err) {
      cleanup();
      throw err;
    }
    clearTimeout(headersTimer);
    timers.delete(headersTimer);

    let consumed = false;
    const res = response;
    const finalUrl = current.toString();
    const body = async function* (): AsyncGenerator<Buffer> {
      if (consumed) throw new Error('body already read');
      consumed = true;
      if (!res.body) {
        cleanup();
        return;
      }
      const reader = res.body.getReader();
      let idle: NodeJS.Timeout | undefined;
      const rearm = (): void => {
        if (ro.kind !== 'blob') return;
        if (idle) {
          clearTimeout(idle);
          timers.delete(idle);
        }
        idle = arm(t.idleMs, `no data for ${t.idleMs} ms from ${current.host}`);
      };
      let windowStart = Date.now();
      let windowBytes = 0;
      let done = false;
      try {
        rearm();
        for (;;) {
          let chunk: ReadableStreamReadResult<Uint8Array>;
          try {
            chunk = await reader.read();
          } catch (err) {
            if (ctrl.signal.aborted) throw ctrl.signal.reason;
            throw new HttpError(`connection to ${current.host} failed while reading: ${describeNetworkError(err)}`, true);
          }
          if (chunk.done) {
            done = true;
            return;
          }
          rearm();
          if (ro.kind === 'blob') {
            windowBytes += chunk.value.byteLength;
            const now = Date.now();
            if (now - windowStart >= t.lowSpeedWindowMs) {
              if (windowBytes < t.lowSpeedBytes) {
                throw new TimeoutError(`transfer from ${current.host} too slow: ${windowBytes} bytes in ${now - windowStart} ms (minimum ${t.lowSpeedBytes} per ${t.lowSpeedWindowMs} ms)`);
              }
              windowStart = now;
              windowBytes = 0;
            }
          }
          yield Buffer.from(chunk.value.buffer, chunk.value.byteOffset, chunk.value.byteLength);
        }
      } finally {
        cleanup();
        if (!done) {
          ctrl.abort(new HttpError('body abandoned', false));
          reader.cancel().catch(() => undefined);
        }
      }
    };
    const out: HttpResponse = {
      status: res.status,
      headers: res.headers,
      url: finalUrl,
      attempts: attempt,
      body,
      async bytes(maxBytes: number): Promise<Buffer> {
        const declared = Number(res.headers.get('content-length') ?? NaN);
        if (declared > maxBytes) {
          out.discard();
          throw new HttpError(`answer from ${current.host} is ${declared} bytes, more than the ${maxBytes} allowed`, false);
        }
        const parts: Buffer[] = [];
        let n = 0;
        for await (const c of body()) {
          n += c.length;
          if (n > maxBytes) throw new HttpError(`answer from ${current.host} is more than ${maxBytes} bytes`, false);
          parts.push(c);
        }
        return Buffer.concat(parts);
      },
      discard(): void {
        if (consumed) return;
        consumed = true;
        cleanup();
        res.body?.cancel().catch(() => undefined);
      },
    };
    return out;
  }
}
