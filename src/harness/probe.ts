import http from 'node:http';

/** One HTTP exchange with the container, timed with the monotonic clock. */
export interface ProbeResult {
  /** HTTP status, absent when no response came (see `error`). */
  status?: number;
  /** `ECONNREFUSED`, `timeout after 2000 ms`, ... */
  error?: string;
  /** From sending the request to the end of the response body, in microseconds. */
  latencyUs: number;
  contentType?: string;
  body: Buffer;
}

export interface ProbeRequest {
  method: 'GET' | 'POST';
  port: number;
  path: string;
  host?: string;
  body?: Buffer | string;
  contentType?: string;
  accept?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

const MAX_BODY = 1024 * 1024;

/** Sends one request to 127.0.0.1 (no keep-alive, no agent pooling) and never rejects. */
export function probe(req: ProbeRequest): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const elapsedUs = (): number => Number((process.hrtime.bigint() - start) / 1000n);
    let done = false;
    const finish = (r: Omit<ProbeResult, 'latencyUs'>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      resolve({ ...r, latencyUs: elapsedUs() });
    };
    const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
    const headers: Record<string, string> = { Connection: 'close' };
    if (body) {
      headers['Content-Type'] = req.contentType ?? 'application/octet-stream';
      headers['Content-Length'] = String(body.length);
    }
    if (req.accept) headers.Accept = req.accept;
    const r = http.request({ host: req.host ?? '127.0.0.1', port: req.port, path: req.path, method: req.method, headers, agent: false });
    const timer = setTimeout(() => {
      r.destroy();
      finish({ error: `timeout after ${Math.round(req.timeoutMs)} ms`, body: Buffer.alloc(0) });
    }, req.timeoutMs);
    const onAbort = (): void => {
      r.destroy();
      finish({ error: 'aborted', body: Buffer.alloc(0) });
    };
    req.signal?.addEventListener('abort', onAbort, { once: true });
    r.on('error', (err: NodeJS.ErrnoException) => finish({ error: err.code ?? err.message, body: Buffer.alloc(0) }));
    r.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_BODY) chunks.push(c);
        size += c.length;
      });
      const end = (): void =>
        finish({
          status: res.statusCode,
          contentType: typeof res.headers['content-type'] === 'string' ? res.headers['content-type'] : undefined,
          body: Buffer.concat(chunks),
        });
      res.on('end', end);
      // A server that closes without finishing the body still gave us a status.
      res.on('aborted', end);
      res.on('error', end);
    });
    r.end(body);
  });
}

/** `200`, `404`, `ECONNREFUSED`, `timeout after 2000 ms`. */
export function describeProbe(r: ProbeResult | undefined): string {
  if (!r) return 'no request was made';
  if (r.status !== undefined) return `HTTP ${r.status}`;
  return r.error === 'ECONNREFUSED' ? 'connection refused' : (r.error ?? 'no response');
}
