import type { CommandSpec, ContainerModel } from '../model/container-model.js';
import type { Location } from '../model/location.js';
import { locateInFile, type VirtualFile } from '../model/vfs.js';
import { appFiles, languageOf, type FileLanguage } from './app-files.js';
import { BIND_ENV, portFromText, type PortValue } from './port-value.js';
import { HOLE, callArgsAt, pythonCommands, type PythonCommand } from './python-commands.js';
import { blankComments } from './routes.js';
import { Scope, type ExprLanguage } from './scope.js';
import { joinShellLines } from './shell.js';

/**
 * A place where a process of the container listens on a TCP port (or would, when started).
 * `role` says which port it is meant to be: the one SageMaker sends traffic to (`serving`), or
 * a second port (metrics, management, gRPC, an app behind nginx) that must lie in the safe range.
 */
export interface BindSite {
  location: Location;
  /** What binds: `gunicorn --bind`, `nginx listen`, `Flask app.run(port=…)`, … */
  server: string;
  role: 'serving' | 'internal';
  port: PortValue;
  /** The text of the port expression as written. */
  expr: string;
  /** A Python `app.run()` under `if __name__ == "__main__":`: runs only when the file is executed directly. */
  mainGuarded?: boolean;
  /** The model file the bind is in (absent for ENTRYPOINT). */
  file?: VirtualFile;
}

/**
 * Where the fix goes for a literal port: the line that wrote the number (`PORT=8080`, a
 * Dockerfile `ENV PORT=8080`), which may differ from the bind that uses it.
 */
export function literalLocation(site: BindSite, files: ContainerModel['files']): Location {
  if (site.port.kind !== 'literal' || !site.port.origin) return site.location;
  const origin = site.port.origin;
  if ('location' in origin) return origin.location;
  if (!site.file) return site.location;
  const text = files.readText(site.file)?.split(/\r?\n/)[origin.line - 1] ?? '';
  const col = text.indexOf(String(site.port.port));
  return locateInFile(site.file, origin.line, col >= 0 ? col + 1 : undefined, col >= 0 ? col + 1 + String(site.port.port).length : undefined);
}

export interface BindAnalysis {
  sites: BindSite[];
  /** Ports a reverse proxy forwards to (nginx upstream / proxy_pass): their listeners are internal. */
  proxiedPorts: Set<number>;
  /** Files that read SAGEMAKER_BIND_TO_PORT somewhere (any use counts as evidence of intent). */
  filesReadingBindEnv: VirtualFile[];
  /**
   * Template substitutions found in start-up code: placeholder or literal text → the expression
   * replacing it, in the scope of the code that does it. `pattern` is `envsubst` for steps that
   * replace every `$NAME`/`${NAME}` with the environment variable NAME (envsubst,
   * `string.Template(...).substitute(os.environ)`).
   */
  substitutions: Substitution[];
}

export interface Substitution {
  pattern: string;
  replacement: string;
  scope: Scope;
  /** What does it, for messages: `sed s/…/…/`, `envsubst`, `string.Template`, `re.sub`... */
  how: string;
}

const cache = new WeakMap<ContainerModel, BindAnalysis>();

/** Finds every bind site of the model once; the port rules share the result. */
export function analyseBinds(model: ContainerModel): BindAnalysis {
  const hit = cache.get(model);
  if (hit) return hit;
  const imageEnv = new Map([...model.env].map(([k, v]) => [k, { value: v.value, location: v.location, raw: v.raw }]));
  const files = appFiles(model);
  const texts = new Map<VirtualFile, string>();
  for (const f of files) {
    const t = model.files.readText(f);
    if (t !== undefined) texts.set(f, t);
  }

  const analysis: BindAnalysis = { sites: [], proxiedPorts: new Set(), filesReadingBindEnv: [], substitutions: [] };
  // Shell scripts first: their exports and template substitutions feed the other files, and
  // Python start-up code that fills config templates (string.Template, re.sub, str.format).
  const shellScope = new Scope('shell', imageEnv);
  const fileScopes = new Map<VirtualFile, Scope>();
  for (const [f, text] of texts) {
    if (text.includes(BIND_ENV)) analysis.filesReadingBindEnv.push(f);
    const lang = languageOf(f, text);
    if (lang === 'shell') {
      const scope = Scope.fromText('shell', text, imageEnv, shellScope);
      fileScopes.set(f, scope);
      for (const [name] of exportedVars(text)) shellScope.exports.set(name, scope);
      collectSubstitutions(text, scope, analysis);
    }
  }
  for (const [f, text] of texts) {
    const lang = languageOf(f, text);
    if (lang !== 'python') continue;
    const scope = Scope.fromText('python', text, imageEnv, shellScope);
    fileScopes.set(f, scope);
    collectPythonSubstitutions(text, scope, analysis);
  }

  for (const [f, text] of texts) {
    const lang = languageOf(f, text);
    const at = (line: number, column?: number, endColumn?: number) => locateInFile(f, line, column, endColumn);
    const before = analysis.sites.length;
    switch (lang) {
      case 'shell':
        shellSites(text, fileScopes.get(f)!, at, analysis);
        break;
      case 'python': {
        const commands = pythonCommands(blankComments(text, 'python'));
        const covered = new Set<number>();
        const pos = positions(text);
        for (const c of commands) for (let l = pos(c.start).line; l <= pos(c.end).line; l++) covered.add(l);
        pythonSites(text, fileScopes.get(f)!, at, analysis, /gunicorn|\.conf\.py$/.test(f.path), covered);
        pythonCommandSites(commands, fileScopes.get(f)!, pos, at, analysis);
        break;
      }
      case 'js':
        jsSites(text, Scope.fromText('js', text, imageEnv, shellScope), at, analysis);
        break;
      case 'jvm':
        jvmSites(text, Scope.fromText('jvm', text, imageEnv, shellScope), at, analysis);
        break;
      case 'go':
        goSites(text, Scope.fromText('go', text, imageEnv, shellScope), at, analysis);
        break;
      case 'r':
        rSites(text, Scope.fromText('r', text, imageEnv, shellScope), at, analysis);
        break;
      case 'nginx':
        nginxSites(text, at, analysis);
        break;
      case 'properties':
        propertiesSites(text, new Scope('spring', imageEnv, shellScope), at, analysis);
        break;
      case 'yaml':
        springYamlSites(text, new Scope('spring', imageEnv, shellScope), at, analysis);
        break;
      case 'supervisor':
        supervisorSites(text, new Scope('shell', imageEnv, shellScope), at, analysis);
        break;
      default:
        break;
    }
    for (const site of analysis.sites.slice(before)) site.file = f;
  }
  // ENTRYPOINT runs under SageMaker; CMD is replaced by `serve`, so its ports never matter.
  if (model.entrypoint) commandSites(model.entrypoint, new Scope('shell', imageEnv, shellScope), analysis);

  assignRoles(analysis);
  cache.set(model, analysis);
  return analysis;
}

type At = (line: number, column?: number, endColumn?: number) => Location;

// ---------------------------------------------------------------------------------------------
// Shell: server command lines and their flags
// ---------------------------------------------------------------------------------------------

/** Flags that set the serving port of common servers, and flags of second ports. */
const SERVING_FLAGS = /(?:^|\s)(--bind|-b|--port|--http-port|--http_port|--listen|--rest_api_port|--rest-api-port|--server-port|--inference-address)(?:=|\s+)("[^"]*"|'[^']*'|[^\s;&|]+)/g;
const INTERNAL_FLAGS = /(?:^|\s)(--metrics-port|--metrics_port|--management-port|--management_port|--grpc-port|--grpc_port|--admin-port|--prometheus-port|--health-port|--port)(?:=|\s+)("[^"]*"|'[^']*'|[^\s;&|]+)/g;
const SERVER_COMMAND = /\b(gunicorn|uvicorn|hypercorn|daphne|waitress-serve|flask|granian|httpd|nginx|node|tensorflow_model_server|python3?(?:\.\d+)?\s+-m\s+http\.server|http-server|serve|torchserve|multi-model-server|tritonserver|text-generation-launcher|text-embeddings-router|[a-z][\w-]*-launcher|vllm|sglang|nc|busybox|socat|java|streamlit|bentoml|mlflow|fastapi)\b/;
/** Triton's listeners: the SageMaker one (with --allow-sagemaker=true) and HTTP, gRPC, metrics. */
const TRITON_FLAGS = /(?:^|\s)(--sagemaker-port|--http-port|--grpc-port|--metrics-port)(?:=|\s+)("[^"]*"|'[^']*'|[^\s;&|]+)/g;

/** What a command line needs of its scope: values resolved, and the words of variables it expands. */
interface CommandScope {
  resolve(value: string, line: number): PortValue;
  assignmentsOf(name: string): Array<{ expr: string; line: number }>;
}

function shellSites(text: string, scope: Scope, at: At, analysis: BindAnalysis): void {
  for (const { line, text: cmd, lines } of joinShellLines(text)) {
    if (/^\s*#/.test(cmd)) continue;
    scanCommand(cmd, scope, analysis, (offset, length) => {
      const { line: l, column } = lines(offset);
      return at(l, column, column + length);
    }, line, (l) => at(l));
  }
}

type Locate = (offset: number, length: number) => Location;

/**
 * The flags of one server command line. Flags held in variables the command expands
 * (`tritonserver $SAGEMAKER_ARGS`, `vllm serve "${ARGS[@]}"`) are read from every assignment of
 * the variable in the script (`ARGS=(--port 8080)`, `SAGEMAKER_ARGS="$SAGEMAKER_ARGS --sagemaker-port=…"`).
 */
function scanCommand(cmd: string, scope: CommandScope, analysis: BindAnalysis, locate: Locate, line: number, atLine?: (line: number) => Location): void {
  const server = SERVER_COMMAND.exec(cmd)?.[1];
  if (!server) return;
  const pieces: Array<{ text: string; locate: Locate }> = [{ text: cmd, locate }];
  for (const ref of cmd.matchAll(/\$\{?([A-Za-z_]\w*)(?:\[[@*]\])?\}?/g)) {
    for (const a of scope.assignmentsOf(ref[1])) {
      if (!/(^|\s)--?[a-z]/.test(a.expr)) continue;
      const where = atLine ? () => atLine(a.line) : () => locate(ref.index!, ref[0].length);
      pieces.push({ text: a.expr, locate: where });
    }
  }
  const all = pieces.map((p) => p.text).join(' ');
  const isTfServing = server === 'tensorflow_model_server';
  const triton = server === 'tritonserver';
  const sagemakerMode = triton && /--allow-sagemaker(?:=|\s+)(?:true|1)\b/i.test(all);
  const disabled = (what: string) => new RegExp(`--allow-${what}(?:=|\\s+)(?:false|0)\\b`, 'i').test(all);
  const seen = new Set<string>();
  const push = (piece: { text: string; locate: Locate }, flag: string, value: string, index: number, role: 'serving' | 'internal') => {
    const text = piece.text;
    const valueOffset = index + (text.slice(index).indexOf(value) >= 0 ? text.slice(index).indexOf(value) : 0);
    const port = scope.resolve(value, line);
    if (port.kind === 'unknown' && !/\d|\$/.test(value)) return;
    analysis.sites.push({ location: piece.locate(valueOffset, value.length), server: `${server} ${flag}`, role, port, expr: value });
  };
  for (const piece of pieces) {
    const text = piece.text;
    const taken = new Set<number>();
    if (triton) {
      for (const m of text.matchAll(TRITON_FLAGS)) {
        taken.add(m.index!);
        const kind = m[1].replace(/^--|-port$/g, '');
        seen.add(kind);
        if (kind !== 'sagemaker' && disabled(kind)) continue;
        // In SageMaker mode the SageMaker listener is the front door; HTTP/gRPC/metrics are second ports.
        const role = kind === 'sagemaker' ? 'serving' : sagemakerMode || kind !== 'http' ? 'internal' : 'serving';
        if (kind === 'sagemaker' && !sagemakerMode) continue;
        push(piece, m[1], m[2], m.index!, role);
      }
      continue;
    }
    for (const m of text.matchAll(INTERNAL_FLAGS)) {
      // `--port` is the serving flag of most servers; only TF Serving uses it for gRPC.
      if (m[1] === '--port' && !isTfServing) continue;
      taken.add(m.index!);
      push(piece, m[1], m[2], m.index!, 'internal');
    }
    for (const m of text.matchAll(SERVING_FLAGS)) {
      if (taken.has(m.index!)) continue;
      if (m[1] === '-b' && !/gunicorn|hypercorn|granian/.test(server)) continue;
      push(piece, m[1], m[2], m.index!, 'serving');
    }
  }
  if (triton && sagemakerMode) {
    // Defaults of Triton's own ports when a flag does not set them: 8080 for SageMaker,
    // 8000/8001/8002 for HTTP/gRPC/metrics unless --allow-…=false turns them off.
    const at = locate(Math.max(0, cmd.indexOf(server)), server.length);
    const defaults: Array<[string, number, 'serving' | 'internal']> = [['sagemaker', 8080, 'serving'], ['http', 8000, 'internal'], ['grpc', 8001, 'internal'], ['metrics', 8002, 'internal']];
    for (const [kind, port, role] of defaults) {
      if (seen.has(kind) || (kind !== 'sagemaker' && disabled(kind))) continue;
      analysis.sites.push({ location: at, server: `tritonserver --allow-sagemaker (default --${kind}-port)`, role, port: { kind: 'literal', port, via: [`default --${kind}-port`] }, expr: String(port) });
    }
  }
  // Short forms: `httpd -p 8080`, `nc -l -p 8080`, `python -m http.server 8080`, `http-server -p 8080`.
  const shortPort = /(?:^|\s)-p\s*("[^"]*"|'[^']*'|[^\s;&|]+)/.exec(cmd);
  if (shortPort && /httpd|nc|busybox|http-server|socat/.test(server)) push(pieces[0], '-p', shortPort[1], shortPort.index, 'serving');
  const httpServer = /http\.server\s+(\S+)/.exec(cmd);
  if (httpServer && /^[\d$"']/.test(httpServer[1])) push(pieces[0], 'http.server', httpServer[1], httpServer.index, 'serving');
}

function commandSites(spec: CommandSpec, scope: Scope, analysis: BindAnalysis): void {
  const cmd = spec.form === 'exec' ? spec.args.join(' ') : spec.args[0];
  scanCommand(cmd, scope, analysis, () => spec.location, 0, () => spec.location);
}

function exportedVars(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const m of text.matchAll(/^\s*export\s+([A-Za-z_]\w*)=("(?:\\.|[^"])*"|'[^']*'|\S*)/gm)) out.push([m[1], m[2].replace(/^["']|["']$/g, '')]);
  return out;
}

/** `envsubst` and `sed s/PLACEHOLDER/$VAR/` steps that fill config templates at start-up. */
function collectSubstitutions(text: string, scope: Scope, analysis: BindAnalysis): void {
  for (const m of text.matchAll(/sed\b[^\n]*?\bs([/|#,@])((?:\\.|(?!\1).)*)\1((?:\\.|(?!\1).)*)\1/g)) {
    analysis.substitutions.push({ pattern: m[2].replace(/\\(.)/g, '$1'), replacement: m[3], scope, how: `sed s/${m[2]}/…/` });
  }
  for (const m of text.matchAll(/\benvsubst\b(?:\s+(['"])([^'"]*)\1)?/g)) {
    analysis.substitutions.push({ pattern: 'envsubst', replacement: m[2] ?? '*', scope, how: 'envsubst' });
  }
}

/** The text between the brackets of a call whose `(` is at `open`, and its top-level arguments. */
function callArgs(text: string, open: number): { args: string[]; end: number } {
  const { args, end } = callArgsAt(text, open);
  return { args: args.map((a) => a.text), end };
}

const unquote = (s: string): string => s.trim().replace(/^[rbuf]*(['"])([\s\S]*)\1$/, '$2');

/**
 * Python start-up code that fills a config template: `string.Template(t).substitute(port=…)`
 * (or `(os.environ)`), `re.sub('%PORT%', …, conf)`, `conf.replace('{{PORT}}', …)`,
 * `tmpl.format(port=…)`, and a dict of values applied with a placeholder regex such as
 * `re.compile(r"%(\w+)%")` (the SageMaker TF Serving container's nginx template).
 */
function collectPythonSubstitutions(original: string, scope: Scope, analysis: BindAnalysis): void {
  const text = original.replace(/(^|\s)#[^\n'"]*$/gm, '$1');
  const add = (pattern: string, replacement: string, how: string) => analysis.substitutions.push({ pattern, replacement, scope, how });
  for (const m of text.matchAll(/\.(safe_)?substitute\(/g)) {
    const { args } = callArgs(text, m.index! + m[0].length - 1);
    const how = `string.Template.${m[1] ?? ''}substitute`;
    for (const a of args) {
      const kw = /^([A-Za-z_]\w*)\s*=\s*([\s\S]+)$/.exec(a);
      if (kw) {
        add(`\${${kw[1]}}`, kw[2], how);
        add(`$${kw[1]}`, kw[2], how);
      } else if (/^\*{0,2}(?:dict\()?\s*os\.environ\b/.test(a)) add('envsubst', '*', `${how}(os.environ)`);
      else if (a.startsWith('{')) for (const e of a.slice(1, -1).matchAll(/['"]([A-Za-z_]\w*)['"]\s*:\s*([^,}]+(?:\([^)]*\))?)/g)) {
        add(`\${${e[1]}}`, e[2].trim(), how);
        add(`$${e[1]}`, e[2].trim(), how);
      }
    }
  }
  for (const m of text.matchAll(/\bre\.sub\(/g)) {
    const { args } = callArgs(text, m.index! + m[0].length - 1);
    if (args.length >= 2 && /^[rbuf]*['"]/.test(args[0])) add(unquote(args[0]).replace(/\\(.)/g, '$1'), args[1], 're.sub');
  }
  for (const m of text.matchAll(/\.replace\(/g)) {
    const { args } = callArgs(text, m.index! + m[0].length - 1);
    if (args.length === 2 && /^[rbuf]*['"]/.test(args[0]) && unquote(args[0]).length > 2) add(unquote(args[0]), args[1], 'str.replace');
  }
  for (const m of text.matchAll(/\.format\(/g)) {
    const { args } = callArgs(text, m.index! + m[0].length - 1);
    for (const a of args) {
      const kw = /^([A-Za-z_]\w*)\s*=\s*([\s\S]+)$/.exec(a);
      if (kw) add(`{${kw[1]}}`, kw[2], 'str.format');
    }
  }
  // A placeholder regex with one (\w+) group and a dict of values: every "KEY": expr entry fills prefix+KEY+suffix.
  const re = /re\.compile\(\s*r?(['"])(.*?)\(\\w\+\)(.*?)\1/.exec(text);
  if (re) {
    const clean = (x: string) => x.replace(/\\s[*+?]?/g, '').replace(/\\(.)/g, '$1');
    const [prefix, suffix] = [clean(re[2]), clean(re[3])];
    for (const e of text.matchAll(/^\s*['"]([A-Za-z_]\w*)['"]\s*:\s*(.+?),?\s*$/gm)) add(`${prefix}${e[1]}${suffix}`, e[2], `re.sub with ${prefix}NAME${suffix} placeholders`);
  }
}

/**
 * A port written in a config template (`listen ${PORT}`, `%NGINX_HTTP_PORT%`, `{port}`,
 * `@PORT@`), followed through the start-up step that fills it. Undefined when the value holds no
 * placeholder that a step fills.
 */
function templatePort(expr: string, analysis: BindAnalysis): PortValue | undefined {
  const tag = (v: PortValue, how: string): PortValue => (v.kind === 'unknown' || v.kind === 'unix' ? v : ({ ...v, via: [how, ...v.via] } as PortValue));
  const dollar = /(?<!\$)\$\{?([A-Za-z_]\w*)\}?/.exec(expr);
  for (const sub of analysis.substitutions) {
    if (sub.pattern === 'envsubst') {
      if (!dollar || expr.includes('$$')) continue;
      // envsubst '$A ${B}' replaces only the variables it lists.
      if (sub.replacement !== '*' && !new RegExp(`\\$\\{?${dollar[1]}\\b`).test(sub.replacement)) continue;
      return tag(sub.scope.resolve(`\${${dollar[1]}}`), sub.how);
    }
    if (!sub.pattern) continue;
    const at = expr.indexOf(sub.pattern);
    // `$$port` is string.Template's escape for a literal `$port`.
    if (at < 0 || (sub.pattern.startsWith('$') && expr[at - 1] === '$')) continue;
    if (sub.pattern.startsWith('$') && /\w/.test(expr[at + sub.pattern.length] ?? '')) continue;
    return tag(sub.scope.resolve(sub.replacement), sub.how);
  }
  return undefined;
}

/** A template placeholder left in a config that nothing was seen filling. */
const PLACEHOLDER = /(?<!\$)\$\{?[A-Za-z_]\w*\}?|%[A-Za-z_]\w*%|\{\{?\s*[A-Za-z_]\w*\s*\}?\}|@[A-Za-z_]\w*@/;

// ---------------------------------------------------------------------------------------------
// Python
// ---------------------------------------------------------------------------------------------

function pythonSites(text: string, scope: Scope, at: At, analysis: BindAnalysis, isGunicornConfig: boolean, commandLines: Set<number>): void {
  const lines = text.split(/\r?\n/);
  let mainGuardIndent = -1;
  lines.forEach((raw, i) => {
    const n = i + 1;
    // Lines of a subprocess/os.exec call are read as a command line (pythonCommandSites).
    if (commandLines.has(n)) return;
    const line = raw.replace(/#.*$/, '');
    const indent = raw.length - raw.trimStart().length;
    if (/^\s*if\s+__name__\s*==\s*['"]__main__['"]\s*:/.test(raw)) mainGuardIndent = indent;
    else if (mainGuardIndent >= 0 && raw.trim() && indent <= mainGuardIndent) mainGuardIndent = -1;
    const guarded = mainGuardIndent >= 0 && indent > mainGuardIndent;
    const push = (server: string, expr: string, role: 'serving' | 'internal' = 'serving') => {
      const col = raw.indexOf(expr) + 1;
      analysis.sites.push({ location: at(n, col || undefined, col ? col + expr.length : undefined), server, role, port: scope.resolve(expr, n), expr, mainGuarded: guarded || undefined });
    };
    let m: RegExpExecArray | null;
    if (isGunicornConfig && (m = /^\s*bind\s*=\s*(.+?)\s*$/.exec(line))) {
      const listMatch = /^\[(.*)\]$/.exec(m[1]);
      for (const item of listMatch ? listMatch[1].split(',') : [m[1]]) push('gunicorn bind', item.trim());
      return;
    }
    if ((m = /\.run\(.*?\bport\s*=\s*([^,)]+(?:\([^)]*\))?)/.exec(line))) push(/uvicorn/.test(line) ? 'uvicorn.run(port=…)' : /run_app/.test(line) ? 'aiohttp run_app(port=…)' : 'app.run(port=…)', m[1].trim());
    else if ((m = /\b(?:waitress\.)?serve\(.*?\bport\s*=\s*([^,)]+(?:\([^)]*\))?)/.exec(line))) push('waitress serve(port=…)', m[1].trim());
    else if ((m = /\bserve\(.*?\blisten\s*=\s*([^,)]+)/.exec(line))) push('waitress serve(listen=…)', m[1].trim());
    else if ((m = /(?:HTTPServer|TCPServer|ThreadingHTTPServer|make_server)\(\s*\(?\s*[^,]*,\s*([^),]+)/.exec(line))) push('HTTP server', m[1].trim());
    else if ((m = /start_http_server\(\s*([^,)]+)/.exec(line))) push('prometheus start_http_server', m[1].trim(), 'internal');
    else if ((m = /add_insecure_port\(\s*([^)]+)\)/.exec(line))) push('gRPC add_insecure_port', m[1].trim(), 'internal');
    else if ((m = /\.listen\(\s*([^,)]+)/.exec(line)) && !/socket|\.listen\(\s*\d?\s*\)/.test(line)) push('listen()', m[1].trim());
    // Config written by Python at start-up: 'inference_address': 'http://0.0.0.0:{}'.format(port),
    // f"inference_address=http://0.0.0.0:{port}", "listen {};".format(port), f"listen {port};".
    else if ((m = /\b(inference_address|management_address|metrics_address)\b['"]?\s*[:=,]?\s*[rbf]*['"]?[^'"\n]*?:(?:\{([^{}]*)\}|%s)['"]?(?:\s*(?:\.format\(|%\s*\(?)\s*([^,)]+(?:\([^)]*\))?))?/.exec(line)) && (m[2] || m[3])) {
      push(`${m[1]} (written by Python)`, (m[2] || m[3]).trim(), PROPERTY_ROLES[m[1]]);
    } else if ((m = /['"][^'"\n]*\blisten\s+(?:\{([^{}]*)\}|%s)[^'"\n]*['"](?:\s*(?:\.format\(|%\s*\(?)\s*([^,)]+(?:\([^)]*\))?))?/.exec(line)) && (m[1] || m[2])) {
      push('nginx listen', (m[1] || m[2]).trim());
    }
  });
}

/** Maps an offset of `text` to its 1-based line and column (line starts computed once). */
function positions(text: string): (offset: number) => { line: number; column: number } {
  let starts: number[] | undefined;
  return (offset) => {
    if (!starts) {
      starts = [0];
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    }
    let [lo, hi] = [0, starts.length - 1];
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo] + 1 };
  };
}

const HAS_HOLE = /\$\{__py_\d+\}/;

/**
 * Server commands that Python code starts (`subprocess.Popen([...])`, `os.execvp(...)`,
 * `os.system("...")`): the words are read by the same flag reader as shell scripts. A value
 * written as Python (`str(port)`, an f-string field, a `.format` argument) is resolved in the
 * file's Python scope; `$VAR` only when a shell runs the command (`shell=True`, `os.system`).
 */
function pythonCommandSites(commands: PythonCommand[], scope: Scope, pos: ReturnType<typeof positions>, at: At, analysis: BindAnalysis): void {
  if (!commands.length) return;
  const shellScope = new Scope('shell', scope.imageEnv, scope.parent);
  for (const cmd of commands) {
    // The words joined into one command line; an offset in it maps back to the element it came from.
    let line = '';
    const spans: Array<{ from: number; to: number; start: number; end: number }> = [];
    for (const w of cmd.words) {
      if (line) line += ' ';
      spans.push({ from: line.length, to: line.length + w.text.length, start: w.start, end: w.end });
      line += w.text;
    }
    const callLine = pos(cmd.start).line;
    const locate: Locate = (offset) => {
      const span = spans.find((s) => offset >= s.from && offset < s.to) ?? spans[spans.length - 1];
      const [a, b] = [pos(span.start), pos(span.end)];
      return at(a.line, a.column, b.line === a.line ? b.column : undefined);
    };
    const render = (v: string) => v.replace(HOLE, (_, n: string) => `{${cmd.holes[Number(n)]?.expr ?? '?'}}`);
    const resolver: CommandScope = {
      assignmentsOf: () => [],
      resolve: (value) => {
        const v = value.replace(/^(['"])(.*)\1$/, '$2');
        if (/^unix:|\.sock$/.test(v)) return { kind: 'unix' };
        // The port part (after the last `:` of host:port or a URL) is one Python expression.
        const one = /^(?:[^:]*:)*\$\{__py_(\d+)\}(?:\/.*)?$/.exec(v);
        const hole = one ? cmd.holes[Number(one[1])] : undefined;
        if (hole) return scope.resolve(hole.expr, pos(hole.offset).line);
        if (HAS_HOLE.test(v)) return { kind: 'unknown', expr: render(v) };
        if (v.includes('$')) return cmd.shell ? shellScope.resolve(v, callLine) : { kind: 'unknown', expr: `${v} (an argument list: no shell expands it)` };
        const port = portFromText(v);
        return port ? { kind: 'literal', port, via: [] } : { kind: 'unknown', expr: v };
      },
    };
    const before = analysis.sites.length;
    scanCommand(line, resolver, analysis, locate, callLine);
    for (const site of analysis.sites.slice(before)) site.expr = render(site.expr);
  }
}

// ---------------------------------------------------------------------------------------------
// Java / Scala / Kotlin, Go
// ---------------------------------------------------------------------------------------------

/** Statements of C-like code joined across lines (a Java assignment split after `=`), with their first line. */
function statements(text: string): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let stmt = lines[i].replace(/\/\/.*$/, '');
    const first = i;
    while (/(=|\?|:|\(|,|&&|\|\||\+)\s*$/.test(stmt) && i + 1 < lines.length && i - first < 6) stmt += ' ' + lines[++i].replace(/\/\/.*$/, '').trim();
    out.push({ line: first + 1, text: stmt });
  }
  return out;
}

const JVM_BINDS: Array<[RegExp, string]> = [
  [/new\s+(?:JettyServletWebServerFactory|TomcatServletWebServerFactory|UndertowServletWebServerFactory)\(\s*(.+?)\s*\)\s*;/, 'Spring web server factory'],
  [/new\s+Server\(\s*([^()]*(?:\([^()]*\))?[^()]*)\)/, 'Jetty Server(port)'],
  [/new\s+InetSocketAddress\(\s*(?:[^,()]+,\s*)?([^()]*(?:\([^()]*\))?[^()]*)\)/, 'InetSocketAddress'],
  [/\.setPort\(\s*(.+?)\s*\)\s*;/, 'setPort()'],
  [/^\s*(?:Spark\.)?port\(\s*(.+?)\s*\)\s*;?\s*$/, 'Spark port()'],
  [/embeddedServer\([^)]*?\bport\s*=\s*([^,)]+)/, 'Ktor embeddedServer(port=…)'],
  [/\.(?:bindAndHandle|newServerAt)\([^)]*?,\s*([^,)]+)\s*\)/, 'Akka HTTP bind'],
];

function jvmSites(text: string, scope: Scope, at: At, analysis: BindAnalysis): void {
  const raw = text.split(/\r?\n/);
  for (const { line, text: stmt } of statements(text)) {
    for (const [re, server] of JVM_BINDS) {
      const m = re.exec(stmt);
      if (!m || !m[1].trim()) continue;
      const expr = m[1].trim();
      const col = (raw[line - 1] ?? '').indexOf(expr) + 1;
      analysis.sites.push({ location: at(line, col || undefined, col ? col + expr.length : undefined), server, role: 'serving', port: scope.resolve(expr, line + 1), expr });
      break;
    }
  }
}

function goSites(text: string, scope: Scope, at: At, analysis: BindAnalysis): void {
  const raw = text.split(/\r?\n/);
  for (const { line, text: stmt } of statements(text)) {
    let m: RegExpExecArray | null;
    let server = '';
    let expr = '';
    if ((m = /http\.ListenAndServe(?:TLS)?\(\s*(.+?)\s*,/.exec(stmt))) [server, expr] = ['http.ListenAndServe', m[1]];
    else if ((m = /net\.Listen\(\s*"tcp\d?"\s*,\s*(.+?)\s*\)/.exec(stmt))) [server, expr] = ['net.Listen', m[1]];
    else if ((m = /\bAddr\s*:\s*(.+?)\s*,?\s*$/.exec(stmt))) [server, expr] = ['http.Server{Addr}', m[1]];
    else if ((m = /\.(?:Run|Start)\(\s*(.*?)\s*\)\s*$/.exec(stmt)) && /\b(r|router|e|app|engine|server|g)\.(Run|Start)\(/.test(stmt)) {
      // gin's Run() with no address listens on $PORT, else 8080.
      [server, expr] = ['gin/echo Run()', m[1] || 'os.Getenv("PORT") or 8080'];
    }
    if (!server) continue;
    const col = (raw[line - 1] ?? '').indexOf(expr) + 1;
    const port = expr === 'os.Getenv("PORT") or 8080' ? ({ kind: 'literal', port: 8080, via: [], envDefault: 'PORT' } as PortValue) : scope.resolve(expr, line + 1);
    analysis.sites.push({ location: at(line, col || undefined, col ? col + expr.length : undefined), server, role: 'serving', port, expr });
  }
}

// ---------------------------------------------------------------------------------------------
// R: plumber and httpuv
// ---------------------------------------------------------------------------------------------

/** `x$run(`, `pr_run(`, `httpuv::runServer(` / `startServer(` / `startDaemonizedServer(`. */
const R_SERVER_CALL = /(\$\s*run|\bpr_run|\b(?:httpuv\s*::\s*)?(?:runServer|startServer|startDaemonizedServer))\s*\(/g;
/** Expressions that make a plumber router: `plumb("x.R")`, `pr()`, `pr_get(...)`, `Plumber$new()`, `plumber::…`. */
const PLUMBER_ROUTER = /\b(?:plumber\s*::\s*)?(?:plumb|pr|plumb_api|pr_[a-z_]+)\s*\(|\bPlumber\s*\$\s*new\s*\(/;

function rSites(original: string, scope: Scope, at: At, analysis: BindAnalysis): void {
  if (!/run|Server/.test(original)) return;
  const text = blankComments(original, 'r');
  const pos = positions(text);
  const usesPlumber = /\b(?:library|require|requireNamespace)\(\s*['"]?plumber\b|\bplumber\s*::/.test(text);
  const usesHttpuv = /\b(?:library|require|requireNamespace)\(\s*['"]?httpuv\b|\bhttpuv\s*::/.test(text);
  // options(plumber.port = …) is where plumber's run() takes the port from when none is given.
  const option = /\boptions\s*\([^)]*?\bplumber\.port\s*=\s*([^,)]+(?:\([^()]*\))?)/.exec(text);
  for (const m of text.matchAll(R_SERVER_CALL)) {
    const callee = m[1].replace(/\s+/g, '');
    const line = pos(m.index!).line;
    let server: string;
    let index: number;
    if (callee === '$run') {
      // Only a plumber router's run(): the receiver is assigned from plumb()/pr()/…, or is such a call.
      const before = text.slice(text.lastIndexOf('\n', m.index!) + 1, m.index!);
      const receiver = /([A-Za-z.][\w.]*)\s*$/.exec(before)?.[1];
      const assigned = receiver ? scope.lookup(receiver, line + 1) : undefined;
      const isRouter = receiver ? (assigned !== undefined ? PLUMBER_ROUTER.test(assigned) : usesPlumber) : PLUMBER_ROUTER.test(before);
      if (!isRouter) continue;
      [server, index] = ['plumber $run(port=…)', 1];
    } else if (callee === 'pr_run') {
      // `pr %>% pr_run(port = …)`: the router comes through the pipe, so positions shift by one.
      const piped = /(%>%|\|>)\s*$/.test(text.slice(Math.max(0, m.index! - 200), m.index!));
      [server, index] = ['plumber pr_run(port=…)', piped ? 1 : 2];
    } else {
      if (!usesHttpuv) continue;
      [server, index] = [`httpuv ${callee.replace(/^httpuv::/, '')}(port)`, 1];
    }
    const open = m.index! + m[0].length - 1;
    const { args } = callArgsAt(text, open);
    const named = args.find((a) => /^port\s*=(?!=)/.test(a.text));
    const positional = args.filter((a) => !/^[A-Za-z.][\w.]*\s*=(?!=)/.test(a.text));
    const arg = named ? { text: named.text.replace(/^port\s*=\s*/, ''), start: named.start + named.text.length - named.text.replace(/^port\s*=\s*/, '').length } : positional[index];
    let expr: string;
    let location: Location;
    if (arg) {
      const [a, b] = [pos(arg.start), pos(arg.start + arg.text.length)];
      [expr, location] = [arg.text, at(a.line, a.column, a.line === b.line ? b.column : undefined)];
    } else if (server.startsWith('plumber')) {
      // No port: plumber reads the plumber.port option, then $PLUMBER_PORT, else picks a random port.
      const p = pos(option ? option.index! + option[0].length - option[1].length : m.index!);
      [expr, location] = [option?.[1].trim() ?? 'get_option_or_env("plumber.port", NULL)', at(p.line, p.column)];
    } else continue;
    analysis.sites.push({ location, server, role: 'serving', port: scope.resolve(expr, line + 1), expr });
  }
}

// ---------------------------------------------------------------------------------------------
// JavaScript / TypeScript
// ---------------------------------------------------------------------------------------------

function jsSites(text: string, scope: Scope, at: At, analysis: BindAnalysis): void {
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/\/\/.*$/, '');
    const m = /\.listen\(\s*(\{[^}]*\bport\s*:\s*([^,}]+)[^}]*\}|[^,)]+)/.exec(line);
    if (!m) return;
    const expr = (m[2] ?? m[1]).trim();
    const col = raw.indexOf(expr) + 1;
    analysis.sites.push({ location: at(i + 1, col || undefined, col ? col + expr.length : undefined), server: 'listen()', role: 'serving', port: scope.resolve(expr, i + 1), expr });
  });
}

// ---------------------------------------------------------------------------------------------
// nginx
// ---------------------------------------------------------------------------------------------

function nginxSites(text: string, at: At, analysis: BindAnalysis): void {
  let inUpstream = 0;
  let depth = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '');
    if (/\bupstream\s+\S+\s*\{/.test(line)) inUpstream = depth + 1;
    depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
    if (inUpstream && depth < inUpstream) inUpstream = 0;
    const n = i + 1;
    let m: RegExpExecArray | null;
    if ((m = /^\s*listen\s+([^;\s]+)/.exec(line))) {
      const expr = m[1];
      analysis.sites.push({ location: at(n, raw.indexOf(expr) + 1, raw.indexOf(expr) + 1 + expr.length), server: 'nginx listen', role: 'serving', port: nginxPort(expr, analysis), expr });
    }
    const target = inUpstream ? /^\s*server\s+([^;\s]+)/.exec(line)?.[1] : /proxy_pass\s+https?:\/\/([^/;\s]+)/.exec(line)?.[1];
    if (target && !target.startsWith('unix:')) {
      const p = portFromText(target.includes(':') ? target : `${target}:80`);
      if (p) analysis.proxiedPorts.add(p);
    }
  });
}

/** A listen value, followed through template substitution when a start-up step fills it. */
function nginxPort(expr: string, analysis: BindAnalysis): PortValue {
  if (expr.startsWith('unix:')) return { kind: 'unix' };
  const filled = templatePort(expr, analysis);
  if (filled) return filled;
  if (PLACEHOLDER.test(expr)) return { kind: 'unknown', expr: `${expr} (a template variable that no start-up script was seen filling)` };
  const port = portFromText(expr.replace(/^\[[^\]]*\]:/, ':'));
  return port ? { kind: 'literal', port, via: [] } : { kind: 'unknown', expr };
}

/** A server config value: filled by a start-up step, or an env placeholder the server expands, or literal. */
function configPort(value: string, scope: Scope, analysis: BindAnalysis): PortValue {
  const filled = templatePort(value, analysis);
  if (filled) return filled;
  // Multi Model Server replaces only a whole value `$$NAME$$`; inside a URL it stays as written.
  if (/\$\$[A-Za-z_]\w*\$\$/.test(value) && !/^\s*\$\$[A-Za-z_]\w*\$\$\s*$/.test(value)) {
    return { kind: 'unknown', expr: `${value} (Multi Model Server replaces $$NAME$$ only when it is the whole value)` };
  }
  return scope.resolve(value);
}

// ---------------------------------------------------------------------------------------------
// Server config files: TorchServe/MMS config.properties, Spring application.properties/yml, supervisord
// ---------------------------------------------------------------------------------------------

const PROPERTY_ROLES: Record<string, 'serving' | 'internal'> = {
  inference_address: 'serving',
  'server.port': 'serving',
  management_address: 'internal',
  metrics_address: 'internal',
  grpc_inference_port: 'internal',
  grpc_management_port: 'internal',
  'management.server.port': 'internal',
};

function propertiesSites(text: string, scope: Scope, at: At, analysis: BindAnalysis): void {
  text.split(/\r?\n/).forEach((raw, i) => {
    const m = /^\s*([\w.]+)\s*[=:]\s*(.+?)\s*$/.exec(raw);
    if (!m || !(m[1] in PROPERTY_ROLES)) return;
    const col = raw.indexOf(m[2]) + 1;
    analysis.sites.push({ location: at(i + 1, col, col + m[2].length), server: m[1], role: PROPERTY_ROLES[m[1]], port: configPort(m[2], scope, analysis), expr: m[2] });
  });
}

function springYamlSites(text: string, scope: Scope, at: At, analysis: BindAnalysis): void {
  const stack: Array<{ indent: number; key: string }> = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const m = /^(\s*)([\w.-]+)\s*:\s*(.*?)\s*$/.exec(raw);
    if (!m) return;
    const indent = m[1].length;
    while (stack.length && stack[stack.length - 1].indent >= indent) stack.pop();
    const key = [...stack.map((s) => s.key), m[2]].join('.');
    if (m[3] === '') stack.push({ indent, key: m[2] });
    else if (key in PROPERTY_ROLES) {
      const col = raw.indexOf(m[3]) + 1;
      analysis.sites.push({ location: at(i + 1, col, col + m[3].length), server: key, role: PROPERTY_ROLES[key], port: configPort(m[3].replace(/^['"]|['"]$/g, ''), scope, analysis), expr: m[3] });
    }
  });
}

function supervisorSites(text: string, scope: Scope, at: At, analysis: BindAnalysis): void {
  text.split(/\r?\n/).forEach((raw, i) => {
    const m = /^\s*command\s*=\s*(.+)$/.exec(raw);
    if (!m) return;
    const offset = raw.indexOf(m[1]);
    scanCommand(m[1], scope, analysis, (o, len) => at(i + 1, offset + o + 1, offset + o + 1 + len), i + 1, () => at(i + 1));
  });
}

// ---------------------------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------------------------

/**
 * Decides which bind is the front door. With an nginx `listen`, nginx serves and the apps behind
 * it are internal. A listener on a port nginx proxies to is internal. A Python `app.run()` under
 * `__main__` does not run when a WSGI/ASGI server imports the module, so it is dropped then.
 */
function assignRoles(analysis: BindAnalysis): void {
  const hasNginx = analysis.sites.some((s) => s.server === 'nginx listen');
  const hasShellServer = analysis.sites.some((s) => s.role === 'serving' && /^(gunicorn|uvicorn|hypercorn|waitress|granian|daphne)/.test(s.server));
  analysis.sites = analysis.sites.filter((s) => !(s.mainGuarded && (hasShellServer || hasNginx)));
  for (const s of analysis.sites) {
    if (s.role !== 'serving' || s.server === 'nginx listen') continue;
    if (hasNginx) s.role = 'internal';
    else if (s.port.kind === 'literal' && analysis.proxiedPorts.has(s.port.port)) s.role = 'internal';
  }
  // A model backend started next to a web server (tensorflow_model_server beside uvicorn/gunicorn/
  // node...) is what the web server calls: its port is a second port.
  const isBackend = (s: BindSite) => /^(tensorflow_model_server|torchserve|multi-model-server|tritonserver)\b/.test(s.server);
  if (analysis.sites.some((s) => s.role === 'serving' && !isBackend(s))) for (const s of analysis.sites) if (s.role === 'serving' && isBackend(s)) s.role = 'internal';
  // Several front doors and one of them reads SAGEMAKER_BIND_TO_PORT: the others are second ports.
  const serving = analysis.sites.filter((s) => s.role === 'serving');
  if (serving.some((s) => s.port.kind === 'bind-env')) for (const s of serving) if (s.port.kind !== 'bind-env' && s.port.kind !== 'unknown') s.role = 'internal';
}

export type { FileLanguage, ExprLanguage };
