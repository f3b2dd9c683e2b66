import path from 'node:path';
import type { ContainerModel } from '../model/container-model.js';
import type { Location } from '../model/location.js';
import { locateInFile, type VirtualFile } from '../model/vfs.js';
import { appFiles, languageOf } from './app-files.js';
import { isCloser, scanCode } from './brackets.js';
import { installedToolkits } from './toolkits.js';

export type Route = '/ping' | '/invocations';
export const ROUTES: Route[] = ['/ping', '/invocations'];

export interface RouteEvidence {
  route: Route;
  /** HTTP methods the handler answers (upper case), or 'ANY' when it does not restrict them. */
  methods: string[] | 'ANY';
  location: Location;
  /** What was recognised, for messages: `@app.route(...)`, `nginx location`, `CGI script`... */
  how: string;
}

/** A server started without its SageMaker mode: it answers other paths than /ping and /invocations. */
export interface ForeignServer {
  name: string;
  location: Location;
  help: string;
}

export interface RouteAnalysis {
  evidence: RouteEvidence[];
  /** A toolkit or serving stack that answers both routes itself. */
  providedBy?: string;
  providedAt?: Location;
  /** Files that could hold routes (Python, JavaScript/TypeScript, nginx configs). */
  codeFiles: number;
  foreign?: ForeignServer;
}

/** Serving stacks whose SageMaker mode answers /ping and /invocations themselves, by command or base image. */
const SERVING_STACKS: Array<{ name: string; test: RegExp }> = [
  { name: "Triton's SageMaker mode (tritonserver --allow-sagemaker=true)", test: /tritonserver[^\n]*--allow-sagemaker[= ]?(true|1)\b/ },
  { name: "TF Serving's SageMaker front end (SAGEMAKER_TFS_* / nginx)", test: /sagemaker[-_]tensorflow[-_]serving|SAGEMAKER_TFS_/ },
  { name: 'Text Generation Inference (sagemaker-entrypoint)', test: /text-generation-launcher|sagemaker-entrypoint\.sh/ },
  { name: 'DJL Serving', test: /\bdjl-serving\b/ },
];

/** Servers that answer their own API paths unless started in a SageMaker mode (checked only when no route is found). */
const FOREIGN_SERVERS: Array<{ name: string; test: RegExp; help: string }> = [
  {
    name: 'tritonserver without --allow-sagemaker=true (it answers /v2/health/ready and /v2/models/..., not /ping and /invocations)',
    test: /\btritonserver\b/,
    help: 'start it as tritonserver --allow-sagemaker=true --allow-http=false --model-repository=... (SageMaker mode serves GET /ping and POST /invocations on port 8080)',
  },
  {
    name: 'tensorflow_model_server on its own (it answers /v1/models/..., not /ping and /invocations)',
    test: /\btensorflow_model_server\b/,
    help: 'put a proxy in front that maps GET /ping and POST /invocations to TF Serving (nginx locations, as the SageMaker TensorFlow Serving container does), or add a small app with both routes',
  },
];

/** Receivers whose `.get("/ping")` is an HTTP client call, not a route. */
const CLIENT_RECEIVER = /^(requests|httpx|session|client|axios|fetch|http|https|urllib|aiohttp\.ClientSession|got|superagent|request|test_?client|conn|self\.client)$/i;

const PY_VERBS = /^(get|post|put|delete|patch|head|options)$/;

/**
 * Evidence that the container answers GET /ping and POST /invocations: routes in Flask, FastAPI,
 * Starlette, aiohttp, Quart, Sanic, Bottle, Express/Fastify/Koa/Hono, plain http.server or Node
 * http handlers, Spring/JAX-RS/Micronaut/Javalin/Spark/Vert.x/Ktor/HttpServer/servlets, Go
 * net/http/gin/echo/chi/gorilla, R plumber/RestRserve, nginx locations, shell servers, busybox
 * httpd CGI files, or a serving toolkit/stack known to provide both.
 */
export function findRoutes(model: ContainerModel): RouteAnalysis {
  const evidence: RouteEvidence[] = [];
  let codeFiles = 0;
  const files = appFiles(model);
  for (const f of files) {
    const text = model.files.readText(f);
    if (text === undefined) continue;
    const lang = languageOf(f, text);
    if (lang === 'python' || lang === 'js' || lang === 'nginx') codeFiles++;
    if (lang === 'python' || lang === 'js') evidence.push(...codeRoutes(f, text, lang));
    else if (lang === 'jvm' || lang === 'go' || lang === 'r') {
      const found = lang === 'jvm' ? jvmRoutes(f, text) : lang === 'go' ? goRoutes(f, text) : rRoutes(f, text);
      evidence.push(...found);
      // Java, Go and R routes often live where smcl does not look (web.xml, generated code,
      // a router mounted elsewhere): such a file is a server file only when it registers routes.
      if (found.length || registersRoutes(lang, text)) codeFiles++;
    }
    else if (lang === 'nginx') evidence.push(...nginxRoutes(f, text));
    else if (lang === 'shell') evidence.push(...shellRoutes(f, text));
    // busybox httpd / any CGI server: files named ping / invocations under a cgi-bin or served root.
    const base = path.posix.basename(f.path);
    if ((base === 'ping' || base === 'invocations') && /cgi-bin|www|htdocs|html/.test(f.path)) {
      evidence.push({ route: `/${base}` as Route, methods: 'ANY', location: locateInFile(f, 1, 1), how: `CGI script ${f.path}` });
    }
  }
  const toolkit = installedToolkits(model).find((t) => t.toolkit.providesRoutes);
  if (toolkit) return { evidence, providedBy: toolkit.toolkit.name, providedAt: toolkit.location, codeFiles };
  const commands = [...model.buildSteps.map((s) => ({ text: s.script, location: s.location })), ...[model.entrypoint, model.cmd].filter((c) => c !== undefined).map((c) => ({ text: c!.args.join(' '), location: c!.location }))];
  const scripts: Array<{ text: string; location: Location }> = [];
  for (const f of files) {
    const t = model.files.readText(f);
    if (t === undefined) continue;
    commands.push({ text: t, location: locateInFile(f, 1, 1) });
    if (languageOf(f, t) === 'shell') scripts.push({ text: t, location: locateInFile(f, 1, 1) });
  }
  for (const stack of SERVING_STACKS) {
    const hit = commands.find((c) => stack.test.test(c.text));
    if (hit) return { evidence, providedBy: stack.name, providedAt: hit.location, codeFiles };
  }
  // Only what runs under SageMaker: the ENTRYPOINT and scripts (CMD is replaced by `serve`).
  let foreign: ForeignServer | undefined;
  const starters = [...(model.entrypoint ? [{ text: model.entrypoint.args.join(' '), location: model.entrypoint.location }] : []), ...scripts];
  for (const s of FOREIGN_SERVERS) {
    for (const c of starters) {
      const i = c.text.split(/\r?\n/).findIndex((l) => !/^\s*#/.test(l) && s.test.test(l));
      if (i < 0) continue;
      const location = c.location.line !== undefined && c.location.file !== model.entrypoint?.location.file ? { ...c.location, line: c.location.line + i, column: 1 } : c.location;
      foreign ??= { name: s.name, location, help: s.help };
    }
  }
  return { evidence, codeFiles, ...(foreign ? { foreign } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Python and JavaScript: the call (or comparison) around each "/ping" / "/invocations" string
// ---------------------------------------------------------------------------------------------

interface Call {
  /** Callee as written before `(`: `app.route`, `Route`, `router.add_get`, '' for a tuple. */
  callee: string;
  open: string;
  /** Offset of the opening bracket. */
  start: number;
  /** Text between the brackets. */
  args: string;
  /** Offset of the closing bracket (or end of text). */
  end: number;
}

/** The innermost bracket that encloses `offset`, with its callee and its arguments. */
export function enclosingCall(text: string, offset: number): Call | undefined {
  let depth = 0;
  let start = -1;
  for (let i = offset - 1; i >= 0; i--) {
    const c = text[i];
    if (c === ')' || c === ']' || c === '}') depth++;
    else if (c === '(' || c === '[' || c === '{') {
      if (depth === 0) {
        start = i;
        break;
      }
      depth--;
    }
  }
  if (start < 0) return undefined;
  // The matching closer: the first one that takes the depth below the opening bracket's.
  const end = scanCode(text, start + 1, (c, _i, d) => isCloser(c) && d < 0, '"\'`');
  const callee = /([A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*)\s*$/.exec(text.slice(Math.max(0, start - 200), start))?.[1]?.replace(/\s+/g, '') ?? '';
  return { callee, open: text[start], start, args: text.slice(start + 1, end), end };
}

/** `methods=["GET", "POST"]`, `methods: ['POST']`, `method: 'GET'`: the methods listed, or undefined. */
function listedMethods(args: string): string[] | 'ANY' | undefined {
  const m = /\bmethods?\s*[=:]\s*(\[[^\]]*\]|\([^)]*\)|\{[^}]*\}|['"][^'"]*['"])/i.exec(args);
  if (!m) return undefined;
  const words = [...m[1].matchAll(/['"]([A-Za-z*]+)['"]/g)].map((w) => w[1].toUpperCase());
  if (words.includes('*')) return 'ANY';
  return words;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * The text with comments replaced by spaces (offsets and lines kept), so that a comment never
 * joins a route call or fakes one. Strings are skipped, so `"http://x"` and `"#fff"` stay.
 */
export function blankComments(text: string, lang: 'python' | 'js' | 'r'): string {
  const out = text.split('');
  let quote: string | undefined;
  for (let i = 0; i < out.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote || (c === '\n' && quote !== '`' && quote.length === 1 && lang === 'js')) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      quote = c;
      continue;
    }
    const lineComment = lang === 'python' || lang === 'r' ? c === '#' : c === '/' && text[i + 1] === '/';
    const blockComment = lang === 'js' && c === '/' && text[i + 1] === '*';
    if (lineComment || blockComment) {
      const end = lineComment ? text.indexOf('\n', i) : text.indexOf('*/', i + 2) + 2;
      const stop = end <= 1 || end === -1 ? text.length : end;
      for (let j = i; j < stop; j++) if (out[j] !== '\n') out[j] = ' ';
      i = stop - 1;
    }
  }
  return out.join('');
}

function codeRoutes(f: VirtualFile, original: string, lang: 'python' | 'js'): RouteEvidence[] {
  const out: RouteEvidence[] = [];
  const text = blankComments(original, lang);
  const lines = text.split(/\r?\n/);
  for (const route of ROUTES) {
    const r = route.replace('/', '\\/');
    const re = new RegExp(`(?:\\b[rfb]{0,2})?(['"\`])${r}\\/?\\1`, 'g');
    for (const m of text.matchAll(re)) {
      const offset = m.index!;
      const line = lineAt(text, offset);
      const raw = lines[line - 1] ?? '';
      const found = lang === 'python' ? pythonRoute(text, offset, raw, lines, line) : jsRoute(text, offset, raw);
      if (found) out.push({ route, methods: found.methods, how: found.how, location: locateInFile(f, line, 1) });
    }
  }
  return out;
}

/** A comparison of the request path with the route on this line: `self.path == "/ping"`, `req.url === '/ping'`, `path in ("/ping", ...)`. */
const PATH_COMPARE = /(path|url|uri|PATH_INFO|pathname|route)\b['"\]]*\)?\s*(===?|!==?|\bin\b|\.startswith\(|\.startsWith\()|(===?)\s*[\w.[\]'"]*(path|url|PATH_INFO|pathname)\b|\bcase\b/i;

function pythonRoute(text: string, offset: number, raw: string, lines: string[], line: number): { methods: string[] | 'ANY'; how: string } | undefined {
  const call = enclosingCall(text, offset);
  if (call && call.open === '(' && call.callee) {
    const parts = call.callee.split('.');
    const name = parts[parts.length - 1];
    const receiver = parts.slice(0, -1).join('.');
    if (CLIENT_RECEIVER.test(receiver) || CLIENT_RECEIVER.test(call.callee)) return undefined;
    const how = `${call.callee}(...)`;
    if (name === 'route' && parts.length > 1) return { methods: listedMethods(call.args) ?? ['GET'], how };
    if (PY_VERBS.test(name) && parts.length > 1) return { methods: [name.toUpperCase()], how };
    const aio = /^add_(get|post|put|delete|patch|head)$/.exec(name);
    if (aio) return { methods: [aio[1].toUpperCase()], how };
    if (name === 'add_route' || (name === 'route' && parts.length === 1)) {
      // aiohttp: add_route("GET", "/ping", handler) / web.route("*", ...)
      const first = /^\s*['"]([A-Za-z*]+)['"]\s*,/.exec(call.args)?.[1];
      if (first) return { methods: first === '*' ? 'ANY' : [first.toUpperCase()], how };
      return { methods: listedMethods(call.args) ?? ['GET'], how };
    }
    if (/^(api_route|add_api_route|add_url_rule|websocket_route)$/.test(name)) return { methods: listedMethods(call.args) ?? ['GET'], how };
    if (name === 'Route') {
      // Starlette: a function endpoint answers GET (and HEAD) unless `methods=` says otherwise;
      // an HTTPEndpoint class answers the methods it defines.
      const listed = listedMethods(call.args);
      if (listed) return { methods: listed, how };
      const endpoint = /^\s*(?:r|f)?['"][^'"]*['"]\s*,\s*(?:endpoint\s*=\s*)?([A-Za-z_][\w.]*)/.exec(call.args)?.[1] ?? /\bendpoint\s*=\s*([A-Za-z_][\w.]*)/.exec(call.args)?.[1];
      const last = endpoint?.split('.').pop() ?? '';
      return /^[A-Z]/.test(last) ? { methods: 'ANY', how: `${how} with endpoint class ${last}` } : { methods: ['GET'], how };
    }
  }
  // Tornado: (r"/ping", PingHandler) in Application([...]); the handler class defines get/post.
  if (call && call.open === '(' && !call.callee && /^\s*[rbf]*['"][^'"]*['"]\s*,\s*[A-Z]\w*/.test(call.args)) return { methods: 'ANY', how: 'Tornado handler tuple' };
  if (PATH_COMPARE.test(raw)) {
    const method = /method\b['"\]]*\s*==\s*['"]([A-Z]+)['"]/.exec(raw)?.[1] ?? enclosingPythonMethod(lines, line);
    return { methods: method ? [method] : 'ANY', how: method ? `path comparison in a ${method} handler` : 'path comparison' };
  }
  return undefined;
}

/** `def do_GET(self):` / `async def post(self):` around a line: the HTTP method it handles. */
function enclosingPythonMethod(lines: string[], line: number): string | undefined {
  const indent = (s: string) => s.length - s.trimStart().length;
  let limit = indent(lines[line - 1] ?? '');
  for (let i = line - 2; i >= 0; i--) {
    const l = lines[i];
    if (!l.trim() || indent(l) >= limit) continue;
    const m = /^\s*(?:async\s+)?def\s+(?:do_)?(GET|POST|PUT|DELETE|PATCH|HEAD|get|post|put|delete|patch|head)\s*\(/.exec(l);
    if (m) return m[1].toUpperCase();
    if (/^\s*(?:async\s+)?def\s|^\s*class\s/.test(l)) return undefined;
    limit = indent(l);
  }
  return undefined;
}

function jsRoute(text: string, offset: number, raw: string): { methods: string[] | 'ANY'; how: string } | undefined {
  const call = enclosingCall(text, offset);
  if (call && call.open === '(' && call.callee) {
    const parts = call.callee.split('.');
    const name = parts[parts.length - 1];
    const receiver = parts.slice(0, -1).join('.');
    if (parts.length > 1 && !CLIENT_RECEIVER.test(receiver)) {
      const how = `${call.callee}(...)`;
      if (PY_VERBS.test(name)) return { methods: [name.toUpperCase()], how };
      if (name === 'all' || name === 'use') return { methods: 'ANY', how };
      if (name === 'route') {
        // Express: app.route('/ping').get(...).post(...)
        const verbs: string[] = [];
        let rest = text.slice(call.end + 1);
        for (;;) {
          const v = /^\s*\.\s*(get|post|put|delete|patch|head|all)\s*\(/.exec(rest);
          if (!v) break;
          verbs.push(v[1].toUpperCase());
          const inner = enclosingCall(rest, v[0].length);
          if (!inner) break;
          rest = rest.slice(inner.end + 1);
        }
        if (verbs.includes('ALL') || verbs.length === 0) return { methods: 'ANY', how };
        return { methods: verbs, how };
      }
    }
  }
  // Fastify / Hapi: route({ method: 'GET', url: '/ping', handler })
  if (call && call.open === '{' && /\b(url|path)\s*:\s*$/.test(text.slice(Math.max(0, offset - 40), offset))) {
    return { methods: listedMethods(call.args) ?? 'ANY', how: 'route options object' };
  }
  if (PATH_COMPARE.test(raw)) {
    const method = /method\s*===?\s*['"]([A-Z]+)['"]/.exec(raw)?.[1];
    return { methods: method ? [method] : 'ANY', how: method ? `${method} path comparison` : 'path comparison' };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// nginx
// ---------------------------------------------------------------------------------------------

function nginxRoutes(f: VirtualFile, text: string): RouteEvidence[] {
  const out: RouteEvidence[] = [];
  const code = text.replace(/#.*$/gm, (c) => ' '.repeat(c.length));
  for (const m of code.matchAll(/\blocation\s+(=|\^~|~\*|~)?\s*("[^"]*"|'[^']*'|[^\s{]+)\s*\{/g)) {
    const modifier = m[1] ?? '';
    const pattern = m[2].replace(/^["']|["']$/g, '');
    const matches = (uri: string): boolean => {
      if (modifier === '=') return uri === pattern;
      if (modifier === '~' || modifier === '~*') {
        try {
          return new RegExp(pattern, modifier === '~*' ? 'i' : '').test(uri);
        } catch {
          return false;
        }
      }
      return uri.startsWith(pattern);
    };
    // A catch-all location (`location /`) proxies to an app whose routes are looked for in its code.
    if (matches('/smcl-probe-not-a-route')) continue;
    const blockStart = m.index! + m[0].length;
    const block = code.slice(blockStart, enclosingCall(code, blockStart)?.end ?? code.length);
    const limit = /\blimit_except\s+([A-Za-z\s]+?)\s*\{/.exec(block);
    const methods: string[] | 'ANY' = limit ? limit[1].trim().split(/\s+/).map((w) => w.toUpperCase()) : 'ANY';
    // nginx: GET in limit_except also allows HEAD.
    for (const route of ROUTES) {
      if (matches(route)) out.push({ route, methods, how: `nginx location ${modifier ? modifier + ' ' : ''}${pattern}${limit ? ` (limit_except ${limit[1].trim()})` : ''}`, location: locateInFile(f, lineAt(text, m.index!), 1) });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Shell servers (socat / nc / busybox scripts that read the request line)
// ---------------------------------------------------------------------------------------------

function shellRoutes(f: VirtualFile, text: string): RouteEvidence[] {
  const out: RouteEvidence[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (/^\s*#/.test(raw)) return;
    for (const route of ROUTES) {
      const r = route.replace('/', '\\/');
      const arm = new RegExp(`(?:^|[\\s|(])["']?(?:(GET|POST|\\*)\\s+)?\\*?${r}\\*?["']?\\s*\\)`);
      const test = new RegExp(`=\\s*["']?${r}["']?\\s*\\]`);
      const a = arm.exec(raw);
      if (a || test.test(raw)) {
        const verb = a?.[1] && a[1] !== '*' ? [a[1]] : undefined;
        out.push({ route, methods: verb ?? 'ANY', how: 'shell case/test on the request path', location: locateInFile(f, i + 1, 1) });
      }
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Java / Scala / Kotlin, Go, R: route registrations around each "/ping" / "/invocations" string
// ---------------------------------------------------------------------------------------------

/** A file registers routes (any path): then it is server code where the two routes belong. */
const ROUTE_DECLARATION: Record<'jvm' | 'go' | 'r', RegExp> = {
  jvm: /@(?:Get|Post|Put|Delete|Patch|Request)Mapping\b|@(?:Path|WebServlet)\s*\(|@(?:Get|Post|Put|Delete|Patch)\s*\(\s*"|\.createContext\s*\(|\.addServlet(?:WithMapping)?\s*\(|\b(?:app|router|routes|routing|javalin|Spark)\s*\.\s*(?:get|post|put|delete|patch|route)\s*\(\s*"\//,
  go: /\.(?:HandleFunc|Handle)\s*\(\s*["`]|\b(?!(?:http|client|resty)\b)[A-Za-z_]\w*\s*\.\s*(?:GET|POST|PUT|DELETE|PATCH|Any|Get|Post|Put|Delete|Patch)\s*\(\s*["`]\//,
  r: /\bpr_(?:get|post|put|delete|head|handle)\s*\(|\$\s*(?:handle|add_(?:get|post|put|delete|head|patch))\s*\(/,
};
/** A plumber endpoint annotation, at the start of a line as plumber requires. */
const R_ANNOTATION = /^#['*]\s*@(?:get|put|post|use|delete|head|options|patch)\s+\//m;

function registersRoutes(lang: 'jvm' | 'go' | 'r', text: string): boolean {
  if (lang === 'r' && R_ANNOTATION.test(text)) return true;
  return ROUTE_DECLARATION[lang].test(blankComments(text, lang === 'r' ? 'r' : 'js'));
}

const VERB = /^(get|post|put|delete|patch|head|options)$/i;
/** HTTP clients and test helpers of Java/Scala/Kotlin whose `.get("/ping")` is a request, not a route. */
const JVM_CLIENT = /^(webClient|restTemplate|httpClient|okHttp(Client)?|mockMvc|rest|given|when|target|request|testRestTemplate)$/i;
/** `path.equals("/ping")`, `"/ping".equals(target)`, `uri == "/ping"`, `case "/ping" =>`. */
const JVM_PATH_COMPARE = /(path|uri|url|target|route|getRequestURI\(\)|getPathInfo\(\)|getServletPath\(\)|getPath\(\)|requestURI|pathInfo)\b[^;]*?(\.equals(?:IgnoreCase)?\(|==|\.startsWith\()|\.equals(?:IgnoreCase)?\(\s*[\w.]*(path|uri|url|target|getRequestURI|getPathInfo|getServletPath)|\bcase\b/i;

/** Annotations that map a path, with the methods they stand for ('GROUP': the verb annotations next to it). */
function annotationMethods(name: string, args: string, group: string): string[] | 'ANY' | 'GROUP' | undefined {
  const mapping = /^(Get|Post|Put|Delete|Patch)Mapping$/.exec(name);
  if (mapping) return [mapping[1].toUpperCase()];
  if (name === 'RequestMapping') {
    const m = /\bmethod\s*=\s*(\{[^}]*\}|[\w.]+)/.exec(args);
    if (!m) return 'ANY';
    const words = [...m[1].matchAll(/(?:RequestMethod\.)?\b(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS)\b/g)].map((w) => w[1]);
    return words.length ? words : 'ANY';
  }
  // Micronaut @Get("/ping") / @Post(...).
  if (/^(Get|Post|Put|Delete|Patch|Head|Options)$/.test(name)) return [name.toUpperCase()];
  // JAX-RS @Path: the HTTP method is a separate annotation (@GET, @POST) on the same method.
  if (name === 'Path') return 'GROUP';
  if (name === 'WebServlet') {
    const verbs = [...group.matchAll(/\bdo(Get|Post|Put|Delete|Head)\s*\(/g)].map((v) => v[1].toUpperCase());
    return verbs.length ? [...new Set(verbs)] : 'ANY';
  }
  return undefined;
}

/** Removes annotations (with their arguments) from a declaration header. */
function withoutAnnotations(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const a = /^@[\w.]+\s*/.exec(s.slice(i));
    if (!a) {
      out += s[i];
      continue;
    }
    i += a[0].length;
    if (s[i] === '(') {
      let depth = 0;
      for (; i < s.length; i++) {
        if (s[i] === '(') depth++;
        else if (s[i] === ')' && --depth === 0) break;
      }
    } else i--;
  }
  return out;
}

function jvmRoutes(f: VirtualFile, original: string): RouteEvidence[] {
  if (!/ping|invocations/.test(original)) return [];
  const code = blankComments(original, 'js');
  // Code with string contents blanked too, to find declarations and statement ends.
  const bare = code.replace(/"(?:\\.|[^"\\\n])*"/g, (s) => `"${' '.repeat(s.length - 2)}"`);
  const lines = code.split(/\r?\n/);
  const imports = (re: RegExp) => re.test(code);
  const bareVerbs = imports(/import\s+(?:static\s+)?(?:spark\.Spark|io\.ktor|org\.scalatra|io\.javalin\.apibuilder)/);
  const functional = imports(/RequestPredicates|web\.(?:reactive|servlet)\.function/);
  // Annotations on the class decide where the methods' paths start and, for a class mapped to
  // /ping itself, which methods answer it.
  const classLevel = (afterAnnotation: number) => {
    const stop = bare.slice(afterAnnotation).search(/[{;]/);
    return /\b(class|interface|object|trait|enum)\b/.test(withoutAnnotations(bare.slice(afterAnnotation, stop < 0 ? undefined : afterAnnotation + stop)));
  };
  let prefix: string | undefined;
  // Spring @RequestMapping("/api"), JAX-RS @Path("api"), Micronaut @Controller("/api") on the class.
  for (const m of code.matchAll(/@(RequestMapping|Path|Controller)\s*\(\s*(?:(?:value|path)\s*=\s*)?\{?\s*"([^"]*)"/g)) {
    if (m[1] === 'Controller' && !m[2].startsWith('/')) continue;
    const end = enclosingCall(code, m.index! + m[0].length - 1)?.end ?? m.index! + m[0].length;
    if (classLevel(end + 1) && !['', '/'].includes(m[2])) prefix = m[2];
  }
  const pathless = [
    ...[...code.matchAll(/@(Get|Post|Put|Delete|Patch)Mapping\b(?!\s*\(\s*(?:(?:value|path)\s*=\s*)?[{"])/g)].map((v) => v[1].toUpperCase()),
    ...[...code.matchAll(/@(GET|POST|PUT|DELETE|PATCH|HEAD)\b/g)].map((v) => v[1]),
  ];
  const out: RouteEvidence[] = [];
  for (const m of code.matchAll(/"(\/?)(ping|invocations)"/g)) {
    const route = `/${m[2]}` as Route;
    const offset = m.index!;
    const line = lineAt(code, offset);
    const push = (methods: string[] | 'ANY', how: string) => out.push({ route, methods, how, location: locateInFile(f, line, 1) });
    let call = enclosingCall(code, offset);
    // `@GetMapping({"/ping", "/health"})`, `value = {"/ping"}`: the annotation is one level up.
    if (call?.open === '{') call = enclosingCall(code, call.start);
    if (call && call.open === '(' && call.callee) {
      const calleeStart = code.lastIndexOf(call.callee.split('.')[0], call.start);
      const isAnnotation = code[calleeStart - 1] === '@';
      const parts = call.callee.split('.');
      const name = parts[parts.length - 1];
      const receiver = parts.slice(0, -1).join('.');
      if (isAnnotation) {
        const stop = bare.slice(call.end + 1).search(/[{;]/);
        const group = bare.slice(Math.max(0, bare.lastIndexOf(';', calleeStart), bare.lastIndexOf('{', calleeStart), bare.lastIndexOf('}', calleeStart)), stop < 0 ? undefined : call.end + 1 + stop);
        const methods = annotationMethods(name, call.args, name === 'WebServlet' ? bare : group);
        if (!methods) continue;
        if (classLevel(call.end + 1)) {
          // A class mapped to the route: its methods without a path of their own answer it.
          if (name === 'WebServlet') push(methods as string[] | 'ANY', `@WebServlet(...) on ${f.path}`);
          else if (pathless.length) push([...new Set(pathless)], `class-level @${name}(...)`);
          continue;
        }
        if (prefix !== undefined || !m[1].length && !/^(Path|RequestMapping|(Get|Post|Put|Delete|Patch)Mapping)$/.test(name)) continue;
        if (methods === 'GROUP') {
          const verbs = [...group.matchAll(/@(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS)\b/g)].map((v) => v[1]);
          push(verbs.length ? verbs : 'ANY', `@Path(...)${verbs.length ? ` with @${verbs.join(', @')}` : ''}`);
        } else push(methods, `@${name}(...)`);
        continue;
      }
      if (!m[1]) continue;
      const how = `${call.callee}(...)`;
      const after = code.slice(call.end + 1, call.end + 40);
      const argCount = call.args.split(',').length;
      // A registration passes a handler, or chains one (Vert.x .handler(...), Ktor/Scalatra { ... }).
      const registers = argCount >= 2 || /^\s*(?:\.\s*(?:handler|blockingHandler|respond)\s*\(|\{)/.test(after);
      if (name === 'createContext' || /^addServlet(WithMapping)?$/.test(name)) {
        push('ANY', how);
        continue;
      }
      if (/^addH(ttpH)?andler$|^addHandler$/.test(name)) {
        const t = /HandlerType\.(\w+)/.exec(call.args)?.[1];
        if (t) push([t.toUpperCase()], how);
        continue;
      }
      if (VERB.test(name)) {
        if (receiver && (CLIENT_RECEIVER.test(receiver) || JVM_CLIENT.test(receiver) || JVM_CLIENT.test(receiver.split('.').pop() ?? ''))) continue;
        const functionalPredicate = /^[A-Z]+$/.test(name) && functional;
        if (!receiver && !bareVerbs && !functionalPredicate) continue;
        if (!registers && !functionalPredicate) continue;
        push([name.toUpperCase()], how);
        continue;
      }
      if (name === 'route' && receiver && registers) {
        const verbs = [...call.args.matchAll(/HttpMethod\.(\w+)/g)].map((v) => v[1].toUpperCase());
        push(verbs.length ? verbs : 'ANY', how);
        continue;
      }
    }
    const raw = lines[line - 1] ?? '';
    if (m[1] && JVM_PATH_COMPARE.test(raw)) {
      const method = /"(GET|POST|PUT|DELETE|PATCH|HEAD)"\s*\.\s*equals|(?:getMethod|getRequestMethod|method)\(?\)?\s*(?:\.equals(?:IgnoreCase)?\(|==)\s*"([A-Z]+)"/.exec(raw);
      const verb = method?.[1] ?? method?.[2] ?? enclosingJvmMethod(bare, offset);
      push(verb ? [verb] : 'ANY', verb ? `path comparison in a ${verb} handler` : 'path comparison');
    }
  }
  return out;
}

/** `doGet(` / `doPost(` declared last before `offset`: the servlet method a comparison is in. */
function enclosingJvmMethod(bare: string, offset: number): string | undefined {
  let found: string | undefined;
  for (const m of bare.slice(0, offset).matchAll(/\b(?:void|def|fun)\s+do(Get|Post|Put|Delete|Head)\s*\(/g)) found = m[1].toUpperCase();
  return found;
}

function goRoutes(f: VirtualFile, original: string): RouteEvidence[] {
  if (!/ping|invocations/.test(original)) return [];
  const code = blankComments(original, 'js');
  const lines = code.split(/\r?\n/);
  // Receivers that are route groups under a prefix: `v1 := r.Group("/v1")`.
  const grouped = new Set<string>();
  for (const g of code.matchAll(/\b([A-Za-z_]\w*)\s*:?=\s*[\w.]+\.Group\(\s*"([^"]*)"/g)) if (!['', '/'].includes(g[2])) grouped.add(g[1]);
  const out: RouteEvidence[] = [];
  for (const m of code.matchAll(/(["`])(?:([A-Z]+)\s+)?\/(ping|invocations)\1/g)) {
    const route = `/${m[3]}` as Route;
    const offset = m.index!;
    const line = lineAt(code, offset);
    const push = (methods: string[] | 'ANY', how: string) => out.push({ route, methods, how, location: locateInFile(f, line, 1) });
    const call = enclosingCall(code, offset);
    if (call && call.open === '(' && call.callee.includes('.')) {
      const parts = call.callee.split('.');
      const name = parts[parts.length - 1];
      const receiver = parts.slice(0, -1).join('.');
      if (grouped.has(receiver) || underPrefixedRoute(code, call.start)) continue;
      const how = `${call.callee}(...)`;
      const args = call.args.split(',').map((a) => a.trim());
      const after = code.slice(call.end + 1, call.end + 120);
      const chained = /^\s*(?:\.\s*(?:Handler|HandlerFunc)\s*\([^)]*\)\s*)?\.\s*Methods\s*\(([^)]*)\)/.exec(after);
      const chainedMethods = chained ? [...chained[1].matchAll(/"([A-Z]+)"|http\.Method(\w+)/g)].map((v) => (v[1] ?? v[2]).toUpperCase()) : undefined;
      const first = /^(?:"([A-Z]+)"|http\.Method(\w+))$/.exec(args[0] ?? '');
      const firstMethod = first ? (first[1] ?? first[2]).toUpperCase() : undefined;
      if (/^(HandleFunc|Handle|Path)$/.test(name) && (!firstMethod || name !== 'Handle')) {
        if (name === 'Path' && !chained && !/^\s*\.\s*Handler/.test(after)) continue;
        // Go 1.22 ServeMux patterns carry the method: "GET /ping" (GET also answers HEAD).
        push(m[2] ? [m[2]] : chainedMethods?.length ? chainedMethods : 'ANY', how);
        continue;
      }
      if (/^(Handle|Add|Method|MethodFunc|HandleMethod)$/.test(name) && firstMethod) {
        push([firstMethod], how);
        continue;
      }
      if (args.length < 2 || CLIENT_RECEIVER.test(receiver) || /^(resty|req)$/i.test(receiver)) continue;
      if (/^(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS)$/.test(name) || /^(Get|Post|Put|Delete|Patch|Head|Options)$/.test(name)) {
        push([name.toUpperCase()], how);
        continue;
      }
      if (name === 'Any' || name === 'All') {
        push('ANY', how);
        continue;
      }
    }
    const raw = lines[line - 1] ?? '';
    if (!m[2] && PATH_COMPARE.test(raw)) {
      const method = /Method\s*==\s*(?:"([A-Z]+)"|http\.Method(\w+))/.exec(raw);
      const verb = method ? (method[1] ?? method[2]).toUpperCase() : undefined;
      push(verb ? [verb] : 'ANY', verb ? `${verb} path comparison` : 'path comparison');
    }
  }
  return out;
}

/** chi `r.Route("/api", func(r chi.Router) { ... })` around the call at `start`: its routes are under the prefix. */
function underPrefixedRoute(code: string, start: number): boolean {
  for (let call = enclosingCall(code, start), hops = 0; call && hops < 8; call = enclosingCall(code, call.start), hops++) {
    const prefix = /^\s*"([^"]*)"/.exec(call.args)?.[1];
    if (call.open === '(' && /\.(Route|Group)$/.test(call.callee) && prefix !== undefined && !['', '/'].includes(prefix)) return true;
  }
  return false;
}

function rRoutes(f: VirtualFile, original: string): RouteEvidence[] {
  if (!/ping|invocations/.test(original)) return [];
  const out: RouteEvidence[] = [];
  // plumber annotations: `#* @get /ping`, `#' @post /invocations`; @use answers every method.
  original.split(/\r?\n/).forEach((raw, i) => {
    const a = /^#['*]\s*@(get|put|post|use|delete|head|options|patch)\s+(\S+)\s*$/.exec(raw);
    if (!a || (a[2] !== '/ping' && a[2] !== '/invocations')) return;
    out.push({ route: a[2] as Route, methods: a[1] === 'use' ? 'ANY' : [a[1].toUpperCase()], how: `plumber #* @${a[1]} ${a[2]}`, location: locateInFile(f, i + 1, 1) });
  });
  // Programmatic: pr_get(pr, "/ping", f), pr %>% pr_post("/invocations", f), pr_handle(pr, c("GET", "POST"), "/ping", f),
  // pr$handle("GET", "/ping", f), RestRserve app$add_post("/invocations", FUN = f).
  const code = blankComments(original, 'r');
  for (const m of code.matchAll(/(\bpr_(get|post|put|delete|head|handle)|\$\s*(handle|add_(get|post|put|delete|head|patch)))\s*\(/g)) {
    const open = m.index! + m[0].length - 1;
    const call = enclosingCall(code, open + 1);
    if (!call) continue;
    const path = /(['"])(\/(?:ping|invocations))\1/.exec(call.args);
    if (!path) continue;
    const verb = m[2] && m[2] !== 'handle' ? m[2] : m[4];
    const listed = verb ? [verb.toUpperCase()] : [...call.args.slice(0, path.index).matchAll(/['"]([A-Za-z]+)['"]/g)].map((w) => w[1].toUpperCase());
    if (!listed.length) continue;
    out.push({ route: path[2] as Route, methods: listed, how: `${m[1].replace(/\s+/g, '')}(...)`, location: locateInFile(f, lineAt(code, open + 1 + path.index), 1) });
  }
  return out;
}
