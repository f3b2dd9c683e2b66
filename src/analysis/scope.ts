import type { Location } from '../model/location.js';
import { BIND_ENV, MAX_HOPS, SAFE_RANGE_ENV, portFromText, type PortOrigin, type PortValue } from './port-value.js';

/** A value fixed in the image (Dockerfile ENV, image config Env), with where it was set. */
export interface ImageEnvValue {
  value: string;
  location: Location;
  /** As written in the Dockerfile (`ENV X=$SAGEMAKER_BIND_TO_PORT` expands at build time, to nothing). */
  raw?: string;
}

/** `jvm`: Java, Scala, Kotlin; `spring`: Java properties / Spring placeholders (`${X:d}`, MMS `$$X$$`); `r`: R scripts. */
export type ExprLanguage = 'shell' | 'python' | 'js' | 'spring' | 'jvm' | 'go' | 'r';

interface Assignment {
  expr: string;
  line: number;
  /** Indentation of the line: an assignment indented under an `if` is a conditional default. */
  indent?: number;
}

/**
 * Variable assignments of one file, in order, so that a port expression such as `$PORT`,
 * `port` or `config.port` can be followed back to where its value comes from. Control flow is
 * ignored: the last assignment before the use wins, which is what straight-line serve scripts do.
 */
export class Scope {
  private readonly vars = new Map<string, Assignment[]>();
  /** Variables that start-up scripts export, each with the scope of the script that exports it. */
  readonly exports = new Map<string, Scope>();

  constructor(
    readonly lang: ExprLanguage,
    /** Values fixed at build time (Dockerfile ENV / image config Env): literal under SageMaker. */
    readonly imageEnv: Map<string, ImageEnvValue> = new Map(),
    /** A scope whose variables are visible here too (e.g. a serve script's exports seen by Python code). */
    readonly parent?: Scope,
  ) {}

  static fromText(lang: ExprLanguage, text: string, imageEnv?: Map<string, ImageEnvValue>, parent?: Scope): Scope {
    const scope = new Scope(lang, imageEnv, parent);
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i];
      const first = i;
      // Java/Scala/Go statements split after `=`, `?`, `(`...: read them as one line.
      if (lang === 'jvm' || lang === 'go') {
        while (/(=|\?|:|\(|,|&&|\|\||\+)\s*$/.test(line.replace(/\/\/.*$/, '')) && i + 1 < lines.length && i - first < 6) line = line.replace(/\/\/.*$/, '') + ' ' + lines[++i].trim();
      }
      // R: after `<-`, `(`, `,`, an operator or a pipe (`%>%`, `|>`) the statement goes on.
      if (lang === 'r') {
        while (R_CONTINUED.test(stripRComment(line)) && i + 1 < lines.length && i - first < 6) line = stripRComment(line) + ' ' + lines[++i].trim();
      }
      // R `if (port == "") port <- "8080"` on one line is as conditional as an indented default.
      const indent = line.length - line.trimStart().length + (lang === 'r' && /^\s*(?:if\s*\(|\}?\s*else\b)/.test(line) ? 1 : 0);
      for (const [name, expr] of assignmentsIn(lang, line)) scope.assign(name, expr, first + 1, indent);
    }
    return scope;
  }

  assign(name: string, expr: string, line: number, indent?: number): void {
    const list = this.vars.get(name) ?? [];
    list.push({ expr, line, indent });
    this.vars.set(name, list);
  }

  lookup(name: string, beforeLine = Number.MAX_SAFE_INTEGER): string | undefined {
    return this.assignment(name, beforeLine)?.expr;
  }

  /** The assignment in force at `beforeLine`, and whether it is this file's (parents' lines mean nothing here). */
  private assignment(name: string, beforeLine: number): (Assignment & { local: boolean }) | undefined {
    const list = this.vars.get(name);
    if (list?.length) {
      const before = list.filter((a) => a.line < beforeLine);
      return { ...(before.length ? before[before.length - 1] : list[0]), local: true };
    }
    const inherited = this.parent?.assignment(name, Number.MAX_SAFE_INTEGER);
    return inherited ? { ...inherited, local: false } : undefined;
  }

  has(name: string): boolean {
    return this.vars.has(name) || (this.parent?.has(name) ?? false);
  }

  /** Every assignment of `name` in this file, in order (arrays and `+=` appends included). */
  assignmentsOf(name: string): Array<{ expr: string; line: number }> {
    return (this.vars.get(name) ?? []).map((a) => ({ expr: a.expr, line: a.line }));
  }

  /** The scope of the start-up script that exports `name`, seen from here (parents only). */
  private exported(name: string): Scope | undefined {
    for (let s = this.parent; s; s = s.parent) {
      const exporter = s.exports.get(name);
      if (exporter && exporter !== this) return exporter;
      if (s.lang === 'shell' && s.vars.has(name)) return s;
    }
    return undefined;
  }

  /** Reduces a port expression at `line` to where its value comes from. */
  resolve(expr: string, line = Number.MAX_SAFE_INTEGER, via: string[] = [], definedAt?: number): PortValue {
    if (via.length > MAX_HOPS) return { kind: 'unknown', expr };
    const trimmed = expr.trim();
    if (/^['"]?unix:|\.sock['"]?$/.test(trimmed)) return { kind: 'unix' };
    const candidates: PortValue[] = [];

    for (const ref of envRefs(this.lang, trimmed)) {
      if (ref.name === BIND_ENV) return { kind: 'bind-env', via };
      if (ref.name === SAFE_RANGE_ENV) return { kind: 'safe-range', via };
      if (!via.includes(ref.name)) {
        // A shell variable may be a local assigned earlier; follow it first.
        if (this.lang === 'shell' && this.vars.has(ref.name)) {
          candidates.push(this.follow(ref.name, line, via));
          continue;
        }
        // A start-up script that exported the variable (`export MY_PORT=$SAGEMAKER_BIND_TO_PORT`
        // before exec'ing the server) sets it for every process it starts: resolve it there.
        const exporter = this.exported(ref.name);
        if (exporter) {
          candidates.push(exporter.resolve(`\${${ref.name}}`, Number.MAX_SAFE_INTEGER, [...via, `export ${ref.name}`]));
          continue;
        }
      }
      const fixed = this.imageEnv.get(ref.name);
      if (fixed && fixed.raw !== undefined && fixed.raw.includes(BIND_ENV)) {
        // ENV X=$SAGEMAKER_BIND_TO_PORT is expanded by the build, when the variable is unset:
        // X is empty (or its build-time default) at run time, whatever port SageMaker assigns.
        const port = portFromText(fixed.value);
        if (port) candidates.push({ kind: 'literal', port, via: [...via, `ENV ${ref.name} (expanded at build time)`], origin: { location: fixed.location } });
        else if (ref.fallback !== undefined) {
          const inner = this.resolve(ref.fallback, line, [...via, `ENV ${ref.name} (empty: expanded at build time)`], definedAt);
          candidates.push(inner.kind === 'literal' ? { ...inner, envDefault: ref.name } : inner);
        } else candidates.push({ kind: 'unknown', expr: `ENV ${ref.name}=${fixed.raw} is expanded at build time, not from SageMaker's ${BIND_ENV}` });
        continue;
      }
      if (fixed) {
        const port = portFromText(fixed.value);
        candidates.push(port ? { kind: 'literal', port, via: [...via, `ENV ${ref.name}`], origin: { location: fixed.location } } : { kind: 'unknown', expr: `${ref.name}=${fixed.value}` });
        continue;
      }
      if (ref.fallback !== undefined) {
        const inner = this.resolve(ref.fallback, line, via, definedAt);
        if (inner.kind === 'literal') candidates.push({ ...inner, envDefault: ref.name });
        else candidates.push(inner);
        continue;
      }
      candidates.push({ kind: 'unknown', expr: `$${ref.name} is not set by the image or SageMaker` });
    }

    if (this.lang !== 'shell') {
      for (const ident of identifiers(this.lang, trimmed)) {
        if (via.includes(ident) || !this.has(ident)) continue;
        candidates.push(this.follow(ident, line, via));
      }
    }

    const best = pickBest(candidates);
    if (best) return best;
    const port = portFromText(stripCall(trimmed)) ?? standaloneNumber(trimmed);
    if (port !== undefined) return { kind: 'literal', port, via, ...(definedAt !== undefined ? { origin: { line: definedAt } as PortOrigin } : {}) };
    return { kind: 'unknown', expr: trimmed };
  }

  /** Resolves a variable through its assignment, remembering the assignment's line for literals. */
  private follow(name: string, line: number, via: string[]): PortValue {
    const a = this.assignment(name, line)!;
    const value = this.resolve(a.expr, a.local ? a.line : line, [...via, name], a.local ? a.line : undefined);
    // `port = os.Getenv("SAGEMAKER_BIND_TO_PORT")` then `if port == "" { port = "8080" }`: the
    // indented literal is the default for when the variable is unset, not the port SageMaker gets.
    if (value.kind === 'literal' && a.local && a.indent !== undefined) {
      const earlier = (this.vars.get(name) ?? []).filter((b) => b.line < a.line && b.indent !== undefined && b.indent < a.indent!);
      for (const b of earlier.reverse()) {
        const v = this.resolve(b.expr, b.line, [...via, name], b.line);
        if (v.kind === 'bind-env') return v;
      }
    }
    return value;
  }
}

const RANK: Record<PortValue['kind'], number> = { 'bind-env': 5, 'safe-range': 4, literal: 3, unix: 2, unknown: 1 };

function pickBest(values: PortValue[]): PortValue | undefined {
  return values.sort((a, b) => RANK[b.kind] - RANK[a.kind])[0];
}

/** `int(x)`, `Number(x)`, `str(x)`, `parseInt(x, 10)`: look inside. */
function stripCall(s: string): string {
  const m = /^(?:int|str|Number|parseInt|String|Integer\.parseInt|Integer\.valueOf|new Integer|strconv\.Atoi|as\.integer|as\.numeric|strtoi)\((.*?)(?:,\s*10L?)?\)$/.exec(s);
  return m ? m[1] : s;
}

function standaloneNumber(s: string): number | undefined {
  // `x or 8080`, `port || 8080`, `8080 if debug else 9000` (first number wins).
  const m = /(?:^|[^\w.$-])(\d{2,5})(?![\w.])/.exec(s);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n > 0 && n <= 65535 ? n : undefined;
}

interface EnvRef {
  name: string;
  /** The default used when the variable is not set (`${X:-8080}`, `get('X', 8080)`, `X || 8080`). */
  fallback?: string;
}

/** References to environment variables in an expression, per language. */
export function envRefs(lang: ExprLanguage, expr: string): EnvRef[] {
  const out: EnvRef[] = [];
  let m: RegExpExecArray | null;
  if (lang === 'shell') {
    // ${X}, ${X:-d}, ${X-d}, ${X:=d}, and the trimming forms ${X%-*} / ${X#*-} (still X's value, cut).
    const re = /\$\{([A-Za-z_]\w*)(?:(:?[-=])((?:[^{}]|\{[^}]*\})*)|[%#]{1,2}[^}]*)?\}|\$([A-Za-z_]\w*)/g;
    while ((m = re.exec(expr))) out.push({ name: m[1] ?? m[4], fallback: m[3] });
  } else if (lang === 'python') {
    const re = /(?:os\.)?(?:environ\.get|getenv|environ\.setdefault)\(\s*['"]([A-Za-z_]\w*)['"]\s*(?:,\s*([^)]*))?\)|(?:os\.)?environ\[\s*['"]([A-Za-z_]\w*)['"]\s*\]/g;
    while ((m = re.exec(expr))) out.push({ name: m[1] ?? m[3], fallback: m[2] ?? orDefault(expr.slice(m.index + m[0].length)) });
  } else if (lang === 'js') {
    const re = /process\.env(?:\.([A-Za-z_]\w*)|\[\s*['"]([A-Za-z_]\w*)['"]\s*\])/g;
    while ((m = re.exec(expr))) out.push({ name: m[1] ?? m[2], fallback: orDefault(expr.slice(m.index + m[0].length)) });
  } else if (lang === 'jvm') {
    // System.getenv("X"), System.getenv().getOrDefault("X", "8080"), Scala sys.env("X") /
    // sys.env.get("X") / sys.env.getOrElse("X", "8080"), commons SystemUtils.getEnvironmentVariable("X").
    const re = /(?:System\.getenv\(\)\.getOrDefault|System\.getenv|sys\.env\.getOrElse|sys\.env\.get|sys\.env|getEnvironmentVariable)\(\s*"([A-Za-z_]\w*)"\s*(?:,\s*"?(\d{1,5})"?)?\s*\)/g;
    while ((m = re.exec(expr))) out.push({ name: m[1], fallback: m[2] ?? elvisDefault(expr.slice(m.index + m[0].length)) });
  } else if (lang === 'go') {
    const re = /os\.(?:Getenv|LookupEnv)\(\s*"([A-Za-z_]\w*)"\s*\)/g;
    while ((m = re.exec(expr))) out.push({ name: m[1] });
  } else if (lang === 'r') {
    // Sys.getenv("X"), Sys.getenv("X", "8080"), Sys.getenv("X", unset = 8080); plumber's
    // get_option_or_env("plumber.port", 8000) reads the option, then $PLUMBER_PORT.
    const re = /Sys\.getenv\(\s*(['"])([A-Za-z_]\w*)\1\s*(?:,\s*(?:unset\s*=\s*)?([^,()]+?))?\s*\)|get_option_or_env\(\s*(['"])plumber\.port\4\s*(?:,\s*([^,()]+?))?\s*\)/g;
    while ((m = re.exec(expr))) {
      if (m[2]) out.push({ name: m[2], fallback: m[3] });
      else out.push({ name: 'PLUMBER_PORT', fallback: m[5] === undefined || m[5] === 'NULL' ? undefined : m[5] });
    }
  } else {
    // Spring / Java properties: ${NAME:default}; Multi Model Server: a whole value `$$NAME$$`
    // is replaced with the environment variable NAME when the server reads its config.
    const re = /\$\{([A-Za-z_][\w.]*)(?::([^}]*))?\}/g;
    while ((m = re.exec(expr))) out.push({ name: m[1], fallback: m[2] });
    const mms = /^\$\$([A-Za-z_]\w*)\$\$$/.exec(expr.trim());
    if (mms) out.push({ name: mms[1] });
  }
  return out;
}

/** Kotlin/Scala `?: 8080` / `.getOrElse(8080)` / `.orElse("8080")` right after a reference. */
function elvisDefault(rest: string): string | undefined {
  const m = /^\s*(?:\?:|\.getOrElse\(|\.orElse\()\s*"?(\d{1,5})"?/.exec(rest);
  return m ? m[1] : undefined;
}

/** `... || 8080`, `... ?? 8080`, `... or 8080` right after a reference. */
function orDefault(rest: string): string | undefined {
  const m = /^\s*\)?\s*(?:\|\||\?\?|\bor\b)\s*(['"]?\d{1,5}['"]?)/.exec(rest);
  return m ? m[1] : undefined;
}

const KEYWORDS = new Set(['int', 'str', 'float', 'os', 'environ', 'get', 'getenv', 'process', 'env', 'Number', 'parseInt', 'String', 'None', 'null', 'undefined', 'or', 'and', 'if', 'else', 'True', 'False', 'self', 'this', 'f', 'const', 'let', 'var', 'new', 'val', 'final', 'Integer', 'System', 'sys', 'toInt', 'fmt', 'Sprintf', 'strconv', 'Itoa', 'Atoi', 'Getenv', 'nil', 'valueOf', 'parseInt', 'format']);

function identifiers(lang: ExprLanguage, expr: string): string[] {
  // Strip string literals except f-string/template placeholders, which hold identifiers.
  const withPlaceholders = expr.replace(/\{([^{}]+)\}/g, ' $1 ').replace(/\$\{([^{}]+)\}/g, ' $1 ');
  const noStrings = withPlaceholders.replace(/(['"`])(?:\\.|(?!\1).)*\1/g, ' ');
  const out: string[] = [];
  const re = /(?<![\w.])([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)?)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(noStrings + ' ' + withPlaceholders.replace(/[^{}\w.\s]/g, ' ')))) {
    const id = m[1];
    if (!KEYWORDS.has(id) && !out.includes(id)) out.push(id);
    const head = id.split('.')[0];
    if (id.includes('.') && !KEYWORDS.has(head) && !out.includes(head)) out.push(head);
  }
  void lang;
  return out;
}

/** Assignments on one line: shell `X=...`/`export X=...`/`: ${X:=...}`, Python `x = ...`, JS `const x = ...`. */
export function assignmentsIn(lang: ExprLanguage, line: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let m: RegExpExecArray | null;
  if (lang === 'shell') {
    const code = line.replace(/(^|\s)#.*$/, '');
    const re = /(?:^|[\s;&|(])(?:export\s+|local\s+|readonly\s+|declare\s+(?:-\w+\s+)*)?([A-Za-z_]\w*)=("(?:\\.|[^"])*"|'[^']*'|\S*)/g;
    // Arrays: ARGS=(--port 8080) and appends ARGS+=(--x y): the words, for flag scanning.
    for (const a of code.matchAll(/(?:^|[\s;&|])([A-Za-z_]\w*)\+?=\(([^)]*)\)/g)) out.push([a[1], a[2]]);
    while ((m = re.exec(code))) if (!m[2].startsWith('(')) out.push([m[1], unquoteShell(m[2])]);
    const def = /:\s+"?\$\{([A-Za-z_]\w*):?=([^}]*)\}"?/.exec(code);
    if (def) out.push([def[1], `\${${def[1]}:-${def[2]}}`]);
  } else if (lang === 'python') {
    m = /^\s*([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*(?::\s*[\w[\], ]+)?\s*=(?!=)\s*(.+?)\s*(#.*)?$/.exec(line);
    // `low, high = ...split('-')`: each name takes the expression (its source is what matters).
    if (m) for (const name of m[1].split(',')) out.push([name.trim(), m[2]]);
  } else if (lang === 'js') {
    m = /^\s*(?:export\s+)?(?:const|let|var)?\s*([A-Za-z_$][\w.$]*)\s*=(?![=>])\s*(.+?);?\s*(\/\/.*)?$/.exec(line);
    if (m) out.push([m[1], m[2]]);
  } else if (lang === 'jvm') {
    // Java `final String port = ...;`, `private static final int PORT = 8080;`, Scala/Kotlin `val port = ...`.
    m = /^\s*(?:(?:public|private|protected|static|final|const|override|lazy)\s+)*(?:val|var|[A-Z][\w.<>]*|int|long)\s+([A-Za-z_]\w*)\s*(?::\s*[\w.<>]+\s*)?=(?!=)\s*(.+?);?\s*(\/\/.*)?$/.exec(line) ??
      /^\s*(?:this\.)?([A-Za-z_]\w*)\s*=(?!=)\s*(.+?);\s*(\/\/.*)?$/.exec(line);
    if (m) out.push([m[1], m[2]]);
  } else if (lang === 'go') {
    m = /^\s*(?:var\s+|const\s+)?([A-Za-z_]\w*)(?:\s*,\s*[A-Za-z_]\w*)?\s*(?:[\w.]+\s*)?:?=(?!=)\s*(.+?)\s*(\/\/.*)?$/.exec(line);
    if (m) out.push([m[1], m[2]]);
  } else if (lang === 'r') {
    // `port <- …`, `port <<- …`, `port = …`, `if (…) port <- …`, and right assignment `… -> port`.
    const code = stripRComment(line);
    m = /^\s*(?:(?:\}\s*)?(?:else\s+)?if\s*\([^()]*(?:\([^()]*\)[^()]*)*\)\s*\{?\s*|\}?\s*else\s*\{?\s*)?([A-Za-z.][\w.]*)\s*(?:<<?-|=(?!=))\s*(.+?)\s*[;}]?\s*$/.exec(code);
    if (m && !/^\.?\d/.test(m[1])) out.push([m[1], m[2]]);
    else if ((m = /^\s*(.+?)\s*->>?\s*([A-Za-z.][\w.]*)\s*$/.exec(code))) out.push([m[2], m[1]]);
  }
  return out;
}

/** An R line ends in the middle of a statement (`<-`, an open bracket, a comma, an operator or a pipe). */
const R_CONTINUED = /(<-|=|\(|,|&&|\|\||\+|%>%|\|>|%\|\|%)\s*$/;

/** An R line without its `#` comment (a `#` inside quotes stays). */
function stripRComment(line: string): string {
  if (!line.includes('#')) return line;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return line.slice(0, i).trimEnd();
  }
  return line;
}

function unquoteShell(s: string): string {
  if (s.startsWith("'") && s.endsWith("'")) return s.slice(1, -1);
  if (s.startsWith('"') && s.endsWith('"')) return s.slice(1, -1);
  return s;
}
