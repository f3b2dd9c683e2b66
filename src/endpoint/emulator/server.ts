import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { evaluateInvoke } from '../iam.js';
import type { PolicyDocument } from '../model.js';
import type { HostedContainer } from './cohost.js';
import type { AdviceOptions, EndpointMetrics } from './metrics.js';
import type { EndpointPlan } from './plan.js';

/**
 * The SageMaker Runtime API (`InvokeEndpoint`, restJson1) for one emulated endpoint, so that
 * `@aws-sdk/client-sagemaker-runtime` pointed at `http://127.0.0.1:<port>` works unchanged.
 *
 * Errors are in the shape the SDK parses: status code, `x-amzn-errortype: <Code>` and a JSON body
 * with `message`. Signatures are not checked (any credentials work); IAM is emulated only with a
 * policy (`evaluateInvoke`, condition key `sagemaker:TargetContainerHostname`).
 */

export interface RuntimeServerOptions {
  plan: EndpointPlan;
  containers: HostedContainer[];
  metrics: EndpointMetrics;
  /** Identity policies of the caller; when given, every request is authorized against them. */
  policies?: PolicyDocument[];
  /**
   * Region and account of the endpoint ARN that policies are evaluated against; when not given,
   * those ARN segments are unknown and match any Resource pattern. Messages show us-east-1 /
   * 000000000000 then.
   */
  region?: string;
  accountId?: string;
  host?: string;
  /** 0 (default): a free port. */
  port?: number;
  /** `/invocations` timeout per container in seconds (default 60, SageMaker's). */
  invocationTimeout?: number;
  advice?: AdviceOptions;
  /** Called after each request (for logs). */
  onRequest?: (entry: RequestLog) => void;
}

export interface RequestLog {
  requestId: string;
  status: number;
  errorType?: string;
  target?: string;
  totalUs: number;
}

/** Payload limit of InvokeEndpoint (6 MB). */
export const MAX_PAYLOAD = 6 * 1024 * 1024;

export const TARGET_HOSTNAME_HEADER = 'x-amzn-sagemaker-target-container-hostname';
export const CUSTOM_ATTRIBUTES_HEADER = 'x-amzn-sagemaker-custom-attributes';
export const INVOKED_VARIANT_HEADER = 'x-Amzn-Invoked-Production-Variant';

export interface RuntimeServer {
  url: string;
  host: string;
  port: number;
  /** Requests refused before reaching a container, by error type. */
  rejected: Record<string, number>;
  close(): Promise<void>;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

interface Forwarded {
  status?: number;
  error?: string;
  body: Buffer;
  contentType?: string;
  customAttributes?: string;
  latencyUs: number;
}

function forward(c: HostedContainer, body: Buffer, headers: { contentType?: string; accept?: string; customAttributes?: string }, timeoutMs: number): Promise<Forwarded> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const us = (): number => Number((process.hrtime.bigint() - start) / 1000n);
    let done = false;
    const finish = (r: Omit<Forwarded, 'latencyUs'>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...r, latencyUs: us() });
    };
    const h: Record<string, string> = { 'Content-Length': String(body.length), 'Content-Type': headers.contentType ?? 'application/octet-stream' };
    if (headers.accept) h.Accept = headers.accept;
    if (headers.customAttributes !== undefined) h['X-Amzn-SageMaker-Custom-Attributes'] = headers.customAttributes;
    const req = http.request({ host: '127.0.0.1', port: c.bindPort, path: '/invocations', method: 'POST', headers: h, agent: false });
    const timer = setTimeout(() => {
      req.destroy();
      finish({ error: 'timeout', body: Buffer.alloc(0) });
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => finish({ error: err.code ?? err.message, body: Buffer.alloc(0) }));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      const end = (): void =>
        finish({
          status: res.statusCode,
          body: Buffer.concat(chunks),
          contentType: typeof res.headers['content-type'] === 'string' ? res.headers['content-type'] : undefined,
          customAttributes: typeof res.headers[CUSTOM_ATTRIBUTES_HEADER] === 'string' ? (res.headers[CUSTOM_ATTRIBUTES_HEADER] as string) : undefined,
        });
      res.on('end', end);
      res.on('aborted', end);
      res.on('error', end);
    });
    req.end(body);
  });
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size <= MAX_PAYLOAD) chunks.push(d);
    });
    req.on('end', () => (size > MAX_PAYLOAD ? reject(new ApiError(413, 'ValidationError', `Request payload is ${size} bytes; InvokeEndpoint accepts up to ${MAX_PAYLOAD} bytes.`)) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

const header = (req: http.IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

export function startRuntimeServer(o: RuntimeServerOptions): Promise<RuntimeServer> {
  const { plan, metrics } = o;
  const region = o.region ?? 'us-east-1';
  const account = o.accountId ?? '000000000000';
  const byHost = new Map(o.containers.map((c) => [c.hostname, c]));
  const rejected: Record<string, number> = {};
  const timeoutMs = (o.invocationTimeout ?? 60) * 1000;
  const logGroup = `/aws/sagemaker/Endpoints/${plan.endpointName}`;
  const seeLogs = `See https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logEventViewer:group=${logGroup} in account ${account} for more information.`;

  const invoke = async (req: http.IncomingMessage, res: http.ServerResponse, name: string, requestId: string, t0: bigint): Promise<RequestLog> => {
    const elapsed = (): number => Number((process.hrtime.bigint() - t0) / 1000n);
    const target = header(req, TARGET_HOSTNAME_HEADER);
    const body = await readBody(req);
    if (name !== plan.endpointName) throw new ApiError(400, 'ValidationError', `Endpoint ${name} of account ${account} not found.`);
    const endpointArn = `arn:aws:sagemaker:${region}:${account}:endpoint/${plan.endpointName.toLowerCase()}`;
    if (o.policies) {
      // Region and account not given: unknown segments, which match any (a policy written for
      // the real account still applies here).
      const evalArn = `arn:aws:sagemaker:${o.region ?? ''}:${o.accountId ?? ''}:endpoint/${plan.endpointName.toLowerCase()}`;
      const d = evaluateInvoke({ policies: o.policies, endpointArn: evalArn, targetContainerHostname: target, otherKeys: 'absent' });
      if (d.decision !== 'allow') {
        const kind = d.decision === 'explicit-deny' ? 'with an explicit deny in an identity-based policy' : d.decision === 'implicit-deny' ? 'because no identity-based policy allows the sagemaker:InvokeEndpoint action' : `(${d.reason})`;
        throw new ApiError(403, 'AccessDeniedException', `User: arn:aws:iam::${account}:user/smcl-local is not authorized to perform: sagemaker:InvokeEndpoint on resource: ${endpointArn} ${kind}`, { reason: d.reason });
      }
    }
    let chain: HostedContainer[];
    if (plan.mode === 'Direct') {
      if (target === undefined || target === '') {
        throw new ApiError(400, 'ValidationError', `Endpoint ${plan.endpointName} is configured for direct invocation: TargetContainerHostname must be specified.`);
      }
      const c = byHost.get(target);
      if (!c) throw new ApiError(400, 'ValidationError', `TargetContainerHostname ${target} does not exist in endpoint ${plan.endpointName}. Valid hostnames: ${[...byHost.keys()].join(', ')}.`);
      chain = [c];
    } else {
      if (target !== undefined) throw new ApiError(400, 'ValidationError', `TargetContainerHostname is only supported for endpoints configured for direct invocation; endpoint ${plan.endpointName} is not.`);
      chain = o.containers;
    }
    const calls: Array<{ hostname: string; status?: number; latencyUs: number }> = [];
    let payload = body;
    let contentType = header(req, 'content-type');
    let customAttributes: string | undefined;
    const accept = header(req, 'accept');
    const reqAttrs = header(req, CUSTOM_ATTRIBUTES_HEADER);
    for (const c of chain) {
      const r = await forward(c, payload, { contentType, accept, customAttributes: reqAttrs }, timeoutMs);
      calls.push({ hostname: c.hostname, status: r.status, latencyUs: r.latencyUs });
      if (r.status === undefined || r.status >= 400) {
        metrics.recordRequest(calls, elapsed());
        const original = r.body.toString('utf8');
        const kind = r.status === undefined || r.status >= 500 ? 'server' : 'client';
        const msg =
          r.status === undefined
            ? r.error === 'timeout'
              ? `Your invocation timed out while waiting for a response from container ${c.hostname}. ${seeLogs}`
              : `Received server error (0) from ${c.hostname} with message "${r.error}". ${seeLogs}`
            : `Received ${kind} error (${r.status}) from ${c.hostname} with message "${original}". ${seeLogs}`;
        throw new ApiError(424, 'ModelError', msg, {
          OriginalStatusCode: r.status ?? 0,
          OriginalMessage: r.status === undefined ? (r.error ?? '') : original,
          LogStreamArn: `arn:aws:logs:${region}:${account}:log-group:${logGroup}:log-stream:${plan.variantName}/${c.hostname}`,
        });
      }
      payload = r.body;
      contentType = r.contentType;
      customAttributes = r.customAttributes;
    }
    const headers: Record<string, string> = {
      'Content-Type': contentType ?? accept ?? 'application/octet-stream',
      'Content-Length': String(payload.length),
      [INVOKED_VARIANT_HEADER]: plan.variantName,
      'x-amzn-RequestId': requestId,
    };
    if (customAttributes !== undefined) headers['X-Amzn-SageMaker-Custom-Attributes'] = customAttributes;
    // Overhead ends when the answer is handed back: record before writing.
    metrics.recordRequest(calls, elapsed());
    res.writeHead(200, headers);
    res.end(payload);
    return { requestId, status: 200, target: target ?? chain.map((c) => c.hostname).join('>'), totalUs: elapsed() };
  };

  const server = http.createServer((req, res) => {
    const t0 = process.hrtime.bigint();
    const requestId = randomUUID();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const m = /^\/endpoints\/([^/]+)\/invocations$/.exec(url.pathname);
    const sendError = (e: ApiError): void => {
      rejected[e.type] = (rejected[e.type] ?? 0) + 1;
      const text = JSON.stringify({ message: e.message, ...e.extra });
      res.writeHead(e.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'x-amzn-errortype': e.type, 'x-amzn-RequestId': requestId });
      res.end(text);
      o.onRequest?.({ requestId, status: e.status, errorType: e.type, totalUs: Number((process.hrtime.bigint() - t0) / 1000n) });
    };
    if (m && req.method === 'POST') {
      let name: string;
      try {
        name = decodeURIComponent(m[1]);
      } catch {
        name = m[1];
      }
      invoke(req, res, name, requestId, t0).then(
        (log) => o.onRequest?.(log),
        (err: unknown) => sendError(err instanceof ApiError ? err : new ApiError(500, 'InternalFailure', (err as Error).message)),
      );
      return;
    }
    if (req.method === 'GET' && url.pathname === '/metrics') {
      const text = JSON.stringify({ ...metrics.snapshot(o.advice), rejected }, null, 2);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    if (req.method === 'GET' && url.pathname === '/ping') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok\n');
      return;
    }
    req.resume();
    sendError(new ApiError(404, 'UnknownOperationException', `No operation for ${req.method} ${url.pathname}`));
  });
  server.keepAliveTimeout = 5000;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 0 }, () => {
      server.off('error', reject);
      const addr = server.address() as AddressInfo;
      const host = addr.address;
      const urlHost = addr.family === 'IPv6' ? `[${host}]` : host;
      resolve({
        url: `http://${urlHost}:${addr.port}`,
        host,
        port: addr.port,
        rejected,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
