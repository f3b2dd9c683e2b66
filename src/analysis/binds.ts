import type { CommandSpec, ContainerModel } from '../model/container-model.js';
import type { Location } from '../model/location.js';
import { locateInFile, type VirtualFile } from '../model/vfs.js';
import { appFiles, languageOf, type FileLanguage } from './app-files.js';
import { BIND_ENV, portFromText, type PortValue } from './port-value.js';
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
  /** Template substitutions found in scripts: placeholder or literal text → the expression replacing it. */
  substitutions: Array<{ pattern: string; replacement: string; scope: Scope }>;
}

const cache = new WeakMap<ContainerModel, BindAnalysis>();

/** Finds every bind site of the model once; the port rules share the result. */
export function analyseBinds(model: ContainerModel): BindAnalysis {
  const hit = cache.get(model);
  if (hit) return hit;
  const imageEnv = new Map([...model.env].map(([k, v]) => [k, { value: v.value, location: v.location }]));
  const files = appFiles(model);
  const texts = new Map<VirtualFile, string>();
  for (const f of files) {
    const t = model.files.readText(f);
    if (t !== undefined) texts.set(f, t);
  }

  const analysis: BindAnalysis = { sites: [], proxiedPorts: new Set(), filesReadingBindEnv: [], substitutions: [] };
  // Shell scripts first: their exports and template substitutions feed the other files.
  const shellScope = new Scope('shell', imageEnv);
  for (const [f, text] of texts) {
    if (text.includes(BIND_ENV)) analysis.filesReadingBindEnv.push(f);
    if (languageOf(f, text) !== 'shell') continue;
    const scope = Scope.fromText('shell', text, imageEnv);
    for (const [name, expr] of exportedVars(text)) shellScope.assign(name, expr, 0);
    collectSubstitutions(text, scope, analysis);
  }

  for (const [f, text] of texts) {
    const lang = languageOf(f, text);
    const at = (line: number, column?: number, endColumn?: number) => locateInFile(f, line, column, endColumn);
    const before = analysis.sites.length;
    switch (lang) {
      case 'shell':
        shellSites(text, Scope.fromText('shell', text, imageEnv), at, analysis);
        break;
      case 'python':
        pythonSites(text, Scope.fromText('python', text, imageEnv, shellScope), at, analysis, /gunicorn|\.conf\.py$/.test(f.path));
        break;
      case 'js':
        jsSites(text, Scope.fromText('js', text, imageEnv, shellScope), at, analysis);
        break;
      case 'nginx':
        nginxSites(text, at, analysis);
        break;
      case 'properties':
        propertiesSites(text, new Scope('spring', imageEnv), at, analysis);
        break;
      case 'yaml':
        springYamlSites(text, new Scope('spring', imageEnv), at, analysis);
        break;
      case 'supervisor':
        supervisorSites(text, new Scope('shell', imageEnv), at, analysis);
        break;
      default:
        break;
    }
    for (const site of analysis.sites.slice(before)) site.file = f;
  }
  // ENTRYPOINT runs under SageMaker; CMD is replaced by `serve`, so its ports never matter.
  if (model.entrypoint) commandSites(model.entrypoint, new Scope('shell', imageEnv), analysis);

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
const SERVER_COMMAND = /\b(gunicorn|uvicorn|hypercorn|daphne|waitress-serve|flask|granian|httpd|nginx|node|tensorflow_model_server|python3?(?:\.\d+)?\s+-m\s+http\.server|http-server|serve|torchserve|multi-model-server|tritonserver|text-generation-launcher|nc|busybox|socat|java|streamlit|bentoml|mlflow|fastapi)\b/;

function shellSites(text: string, scope: Scope, at: At, analysis: BindAnalysis): void {
  for (const { line, text: cmd, lines } of joinShellLines(text)) {
    if (/^\s*#/.test(cmd)) continue;
    scanCommand(cmd, scope, analysis, (offset, length) => {
      const { line: l, column } = lines(offset);
      return at(l, column, column + length);
    }, line);
  }
}

function scanCommand(cmd: string, scope: Scope, analysis: BindAnalysis, locate: (offset: number, length: number) => Location, line: number): void {
  const server = SERVER_COMMAND.exec(cmd)?.[1];
  if (!server) return;
  const isTfServing = server === 'tensorflow_model_server';
  const push = (flag: string, value: string, index: number, role: 'serving' | 'internal') => {
    const valueOffset = index + (cmd.slice(index).indexOf(value) >= 0 ? cmd.slice(index).indexOf(value) : 0);
    const port = scope.resolve(value, line);
    if (port.kind === 'unknown' && !/\d|\$/.test(value)) return;
    analysis.sites.push({ location: locate(valueOffset, value.length), server: `${server} ${flag}`, role, port, expr: value });
  };
  const seen = new Set<number>();
  for (const m of cmd.matchAll(INTERNAL_FLAGS)) {
    // `--port` is the serving flag of most servers; only TF Serving uses it for gRPC.
    if (m[1] === '--port' && !isTfServing) continue;
    seen.add(m.index!);
    push(m[1], m[2], m.index!, 'internal');
  }
  for (const m of cmd.matchAll(SERVING_FLAGS)) {
    if (seen.has(m.index!)) continue;
    if (m[1] === '-b' && !/gunicorn|hypercorn|granian/.test(server)) continue;
    push(m[1], m[2], m.index!, 'serving');
  }
  // Short forms: `httpd -p 8080`, `nc -l -p 8080`, `python -m http.server 8080`, `http-server -p 8080`.
  const shortPort = /(?:^|\s)-p\s*("[^"]*"|'[^']*'|[^\s;&|]+)/.exec(cmd);
  if (shortPort && /httpd|nc|busybox|http-server|socat/.test(server)) push('-p', shortPort[1], shortPort.index, 'serving');
  const httpServer = /http\.server\s+(\S+)/.exec(cmd);
  if (httpServer && /^[\d$"']/.test(httpServer[1])) push('http.server', httpServer[1], httpServer.index, 'serving');
}

function commandSites(spec: CommandSpec, scope: Scope, analysis: BindAnalysis): void {
  const cmd = spec.form === 'exec' ? spec.args.join(' ') : spec.args[0];
  scanCommand(cmd, scope, analysis, () => spec.location, 0);
}

function exportedVars(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const m of text.matchAll(/^\s*export\s+([A-Za-z_]\w*)=("(?:\\.|[^"])*"|'[^']*'|\S*)/gm)) out.push([m[1], m[2].replace(/^["']|["']$/g, '')]);
  return out;
}

/** `envsubst` and `sed s/PLACEHOLDER/$VAR/` steps that fill config templates at start-up. */
function collectSubstitutions(text: string, scope: Scope, analysis: BindAnalysis): void {
  for (const m of text.matchAll(/sed\b[^\n]*?\bs([/|#,@])((?:\\.|(?!\1).)*)\1((?:\\.|(?!\1).)*)\1/g)) {
    analysis.substitutions.push({ pattern: m[2].replace(/\\(.)/g, '$1'), replacement: m[3], scope });
  }
  for (const m of text.matchAll(/\benvsubst\b(?:\s+(['"])([^'"]*)\1)?/g)) {
    analysis.substitutions.push({ pattern: 'envsubst', replacement: m[2] ?? '*', scope });
  }
}

// ---------------------------------------------------------------------------------------------
// Python
// ---------------------------------------------------------------------------------------------

function pythonSites(text: string, scope: Scope, at: At, analysis: BindAnalysis, isGunicornConfig: boolean): void {
  const lines = text.split(/\r?\n/);
  let mainGuardIndent = -1;
  lines.forEach((raw, i) => {
    const n = i + 1;
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
  });
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

/** A listen value, followed through template substitution when a start-up script fills it. */
function nginxPort(expr: string, analysis: BindAnalysis): PortValue {
  if (expr.startsWith('unix:')) return { kind: 'unix' };
  const placeholder = /\$\{?([A-Za-z_]\w*)\}?/.exec(expr);
  for (const sub of analysis.substitutions) {
    if (sub.pattern === 'envsubst' && placeholder) {
      // envsubst replaces ${NAME} with the environment variable NAME of the start-up script.
      const v = sub.scope.resolve(`\${${placeholder[1]}}`);
      return v.kind === 'unknown' ? v : { ...v, via: ['envsubst', ...('via' in v ? v.via : [])] } as PortValue;
    }
    if (sub.pattern && expr.includes(sub.pattern)) {
      const v = sub.scope.resolve(sub.replacement);
      return v.kind === 'unknown' ? v : ({ ...v, via: [`sed s/${sub.pattern}/…/`, ...('via' in v ? v.via : [])] } as PortValue);
    }
  }
  if (placeholder) return { kind: 'unknown', expr: `${expr} (a template variable that no start-up script was seen filling)` };
  const port = portFromText(expr.replace(/^\[[^\]]*\]:/, ':').replace(/^[^:]*$/, (s) => s));
  return port ? { kind: 'literal', port, via: [] } : { kind: 'unknown', expr };
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
    analysis.sites.push({ location: at(i + 1, col, col + m[2].length), server: m[1], role: PROPERTY_ROLES[m[1]], port: scope.resolve(m[2]), expr: m[2] });
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
      analysis.sites.push({ location: at(i + 1, col, col + m[3].length), server: key, role: PROPERTY_ROLES[key], port: scope.resolve(m[3].replace(/^['"]|['"]$/g, '')), expr: m[3] });
    }
  });
}

function supervisorSites(text: string, scope: Scope, at: At, analysis: BindAnalysis): void {
  text.split(/\r?\n/).forEach((raw, i) => {
    const m = /^\s*command\s*=\s*(.+)$/.exec(raw);
    if (!m) return;
    const offset = raw.indexOf(m[1]);
    scanCommand(m[1], scope, analysis, (o, len) => at(i + 1, offset + o + 1, offset + o + 1 + len), i + 1);
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
  // Several front doors and one of them reads SAGEMAKER_BIND_TO_PORT: the others are second ports.
  const serving = analysis.sites.filter((s) => s.role === 'serving');
  if (serving.some((s) => s.port.kind === 'bind-env')) for (const s of serving) if (s.port.kind !== 'bind-env' && s.port.kind !== 'unknown') s.role = 'internal';
}

export type { FileLanguage, ExprLanguage };
