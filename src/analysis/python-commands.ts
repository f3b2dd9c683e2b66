import { isCloser, scanCode } from './brackets.js';
import { MAX_HOPS } from './port-value.js';

/**
 * Server command lines that Python start-up code runs: `subprocess.Popen([...])`, `subprocess.run`,
 * `os.execvp("gunicorn", [...])`, `os.system("...")`, `asyncio.create_subprocess_exec(...)`, with
 * argument lists written in place or built up in a variable (`cmd = [...]`, `cmd += [...]`,
 * `cmd.append(x)`, `cmd.extend([...])`, `["x"] + extra`, `*extra`).
 *
 * Each command is returned as words the shell/supervisord flag reader understands. A Python
 * expression inside a word (`str(port)`, `f"--port={port}"`, `"--port={}".format(port)`,
 * `"0.0.0.0:%d" % port`, `"0.0.0.0:" + port`) becomes a placeholder `${__py_N}` whose expression
 * is in `holes[N]`, to be resolved with the file's Python scope.
 */
export interface PythonCommand {
  /** Words in order, each with the source offsets of the element it came from. */
  words: Array<{ text: string; start: number; end: number }>;
  /** Python expressions of the placeholders, with the offset where each was written. */
  holes: Array<{ expr: string; offset: number }>;
  /** True when a shell parses the text (`shell=True`, `os.system`): `$VAR` is expanded then. */
  shell: boolean;
  /** Offsets of the call: from its name to its closing bracket. */
  start: number;
  end: number;
}

export const HOLE = /\$\{__py_(\d+)\}/g;

const CALL = /\b(?:([A-Za-z_]\w*)\s*\.\s*)?(Popen|run|call|check_call|check_output|getoutput|getstatusoutput|system|popen|exec[lv]p?e?|spawn[lv]p?e?|create_subprocess_exec|create_subprocess_shell)\s*\(/g;
const SUBPROCESS_FNS = /^(Popen|run|call|check_call|check_output|getoutput|getstatusoutput)$/;
const OS_FNS = /^(system|popen|exec[lv]p?e?|spawn[lv]p?e?)$/;

/** `text` must have its comments blanked (offsets kept). */
export function pythonCommands(text: string): PythonCommand[] {
  if (!/subprocess|\bos\b|asyncio/.test(text)) return [];
  const modules = importedNames(text);
  const out: PythonCommand[] = [];
  for (const m of text.matchAll(CALL)) {
    const [receiver, fn] = [m[1], m[2]];
    const module = SUBPROCESS_FNS.test(fn) ? 'subprocess' : OS_FNS.test(fn) ? 'os' : 'asyncio';
    if (receiver ? modules.aliases.get(receiver) !== module : !modules.bare.has(`${module}.${fn}`)) continue;
    const open = m.index! + m[0].length - 1;
    const { args, end } = callArgsAt(text, open);
    const positional = args.filter((a) => !/^[A-Za-z_]\w*\s*=(?!=)/.test(a.text));
    const keyword = (name: string) => args.find((a) => new RegExp(`^${name}\\s*=(?!=)`).test(a.text));
    const holes: PythonCommand['holes'] = [];
    const ctx: ListContext = { text, holes, seen: [] };
    let elements: Element[] | undefined;
    let shell = false;
    if (module === 'subprocess') {
      const first = positional[0] ?? valueOf(keyword('args'));
      if (!first) continue;
      shell = /^getoutput|^getstatusoutput/.test(fn) || args.some((a) => /^shell\s*=\s*True\b/.test(a.text));
      elements = listElements(first, m.index!, ctx);
    } else if (module === 'asyncio') {
      shell = fn === 'create_subprocess_shell';
      elements = shell ? listElements(positional[0], m.index!, ctx) : spread(positional, m.index!, ctx);
    } else if (fn === 'system' || fn === 'popen') {
      shell = true;
      elements = positional[0] ? listElements(positional[0], m.index!, ctx) : undefined;
    } else {
      // os.execv(path, args) / os.execlp(file, arg0, ...) / os.spawnv(mode, path, args) / os.spawnl(mode, path, arg0, ...).
      const skip = fn.startsWith('spawn') ? 2 : 1;
      const withEnv = fn.endsWith('e');
      if (/^(exec|spawn)v/.test(fn)) elements = positional[skip] ? listElements(positional[skip], m.index!, ctx) : undefined;
      else elements = spread(positional.slice(skip, withEnv ? -1 : undefined), m.index!, ctx);
    }
    if (!elements?.length) continue;
    const words = elements.map((e) => ({ text: pyWord(e.expr, e.start, holes), start: e.start, end: e.start + e.expr.length }));
    out.push({ words, holes, shell, start: m.index!, end });
  }
  return out;
}

function valueOf(arg: Arg | undefined): Arg | undefined {
  if (!arg) return undefined;
  const eq = arg.text.indexOf('=');
  const rest = arg.text.slice(eq + 1);
  const lead = rest.length - rest.trimStart().length;
  return { text: rest.trim(), start: arg.start + eq + 1 + lead };
}

/** Names under which subprocess / os / asyncio (or their functions) are imported. */
function importedNames(text: string): { aliases: Map<string, string>; bare: Set<string> } {
  const aliases = new Map<string, string>();
  const bare = new Set<string>();
  for (const m of text.matchAll(/^[ \t]*import[ \t]+([^\n]+)/gm)) {
    for (const part of m[1].split(',')) {
      const p = /^\s*(subprocess|os|asyncio)(?:\s+as\s+([A-Za-z_]\w*))?\s*$/.exec(part);
      if (p) aliases.set(p[2] ?? p[1], p[1]);
    }
  }
  for (const m of text.matchAll(/^[ \t]*from[ \t]+(subprocess|os|asyncio)[ \t]+import[ \t]+(\([^)]*\)|[^\n]+)/gm)) {
    for (const part of m[2].replace(/[()]/g, '').split(',')) {
      const p = /^\s*([A-Za-z_]\w*)(?:\s+as\s+([A-Za-z_]\w*))?\s*$/.exec(part);
      if (p && !p[2]) bare.add(`${m[1]}.${p[1]}`);
    }
  }
  return { aliases, bare };
}

// ---------------------------------------------------------------------------------------------
// Argument lists
// ---------------------------------------------------------------------------------------------

export interface Arg {
  text: string;
  /** Offset of `text` in the file. */
  start: number;
}

type Element = { expr: string; start: number };

interface ListContext {
  text: string;
  holes: PythonCommand['holes'];
  /**
   * Variables being followed. Each hop looks only before the assignment it came from, so
   * `a = a + [...]` and `a = b; b = a` end; the length caps the depth.
   */
  seen: string[];
}

/** The top-level arguments of the call (or list, tuple) whose bracket is at `open`, with offsets. */
export function callArgsAt(text: string, open: number): { args: Arg[]; end: number } {
  let start = open + 1;
  const args: Arg[] = [];
  const push = (from: number, to: number) => {
    const raw = text.slice(from, to);
    const t = raw.trim();
    if (t) args.push({ text: t, start: from + raw.indexOf(t) });
  };
  const end = scanCode(text, open, (c, i, depth) => {
    if (isCloser(c) && depth === 0) return true;
    if (c === ',' && depth === 1) {
      push(start, i);
      start = i + 1;
    }
  });
  if (end < text.length) push(start, end);
  return { args, end };
}

/** Positional arguments as list elements (`create_subprocess_exec("x", *args)`, `execlp`). */
function spread(args: Arg[], before: number, ctx: ListContext): Element[] {
  const out: Element[] = [];
  for (const a of args) {
    if (a.text.startsWith('*')) out.push(...(listElements({ text: a.text.slice(1).trim(), start: a.start + 1 }, before, ctx) ?? []));
    else out.push({ expr: a.text, start: a.start });
  }
  return out;
}

/**
 * The elements of a list expression: a literal `[...]`/`(...)`, `a + b`, `list(x)`, a variable
 * built before `before`, or a string (a whole command line, `shlex.split(s)`, `s.split()`).
 * Undefined when it cannot be read.
 */
function listElements(arg: Arg | undefined, before: number, ctx: ListContext): Element[] | undefined {
  if (!arg) return undefined;
  const e = arg.text;
  const parts = splitTopLevel(e, '+');
  if (parts.length > 1) {
    // `["gunicorn"] + args`: lists concatenated; `"gunicorn -b " + bind`: one string.
    if (parts.some((p) => /^\s*[rbuf]*['"]/i.test(p.text)) && !parts.some((p) => /^\s*[[(]/.test(p.text))) return [{ expr: e, start: arg.start }];
    const out: Element[] = [];
    for (const p of parts) out.push(...(listElements({ text: p.text.trim(), start: arg.start + p.offset + (p.text.length - p.text.trimStart().length) }, before, ctx) ?? []));
    return out;
  }
  if (/^[[(]/.test(e)) {
    const { args } = callArgsAt(ctx.text, arg.start);
    return spread(args, before, ctx);
  }
  const call = /^(list|tuple|shlex\.split)\s*\(/.exec(e);
  if (call) {
    const { args } = callArgsAt(ctx.text, arg.start + call[0].length - 1);
    return args[0] ? listElements(args[0], before, ctx) : undefined;
  }
  const split = /^([\s\S]+?)\.split\(\s*\)$/.exec(e);
  if (split) return listElements({ text: split[1], start: arg.start }, before, ctx);
  if (/^[rbuf]*['"]/i.test(e)) return [{ expr: e, start: arg.start }];
  if (/^[A-Za-z_]\w*$/.test(e)) return variableElements(e, before, ctx);
  return undefined;
}

/**
 * A list variable as built before `before`: the last `name = ...` (the last assignment wins, as
 * in Scope), then every `name += ...`, `name.extend(...)`, `name.append(...)` after it.
 */
function variableElements(name: string, before: number, ctx: ListContext): Element[] | undefined {
  if (ctx.seen.length > MAX_HOPS) return undefined;
  const inner: ListContext = { ...ctx, seen: [...ctx.seen, name] };
  const re = new RegExp(`(^|\\n)[ \\t]*${name}[ \\t]*(\\+=|=(?!=))[ \\t]*|\\b${name}\\s*\\.\\s*(append|extend)\\s*\\(`, 'g');
  const steps = [...ctx.text.matchAll(re)].filter((m) => m.index! < before);
  // Only the last plain assignment counts (earlier ones are overwritten): each hop reads one.
  let first = 0;
  for (let i = steps.length - 1; i >= 0; i--) {
    if (steps[i][2] === '=') {
      first = i;
      break;
    }
  }
  let elements: Element[] | undefined;
  for (const m of steps.slice(first)) {
    if (m[3]) {
      const { args } = callArgsAt(ctx.text, m.index! + m[0].length - 1);
      if (!args[0]) continue;
      elements ??= [];
      if (m[3] === 'append') elements.push({ expr: args[0].text, start: args[0].start });
      else elements.push(...(listElements(args[0], m.index!, inner) ?? []));
      continue;
    }
    const rhs = statementAt(ctx.text, m.index! + m[0].length);
    const value = listElements(rhs, m.index!, inner);
    if (m[2] === '=') elements = value;
    else if (value) (elements ??= []).push(...value);
  }
  return elements;
}

/** The expression from `start` to the end of its statement (brackets may span lines). */
function statementAt(text: string, start: number): Arg {
  const i = scanCode(text, start, (c, at, depth) => (c === '\n' || c === ';') && depth <= 0 && text[at - 1] !== '\\');
  const raw = text.slice(start, i);
  return { text: raw.trim(), start: start + (raw.length - raw.trimStart().length) };
}

/** Splits on `sep` outside strings and brackets; each part with its offset in `s`. */
function splitTopLevel(s: string, sep: string): Array<{ text: string; offset: number }> {
  const out: Array<{ text: string; offset: number }> = [];
  let from = 0;
  scanCode(s, 0, (c, i, depth) => {
    if (c === sep && depth === 0 && s[i + 1] !== '=') {
      out.push({ text: s.slice(from, i), offset: from });
      from = i + 1;
    }
  });
  out.push({ text: s.slice(from), offset: from });
  return out;
}

// ---------------------------------------------------------------------------------------------
// One element → one shell word
// ---------------------------------------------------------------------------------------------

/** A Python string literal at the start of `s`. */
function stringAt(s: string): { prefix: string; body: string; end: number } | undefined {
  const m = /^([rRbBuUfF]{0,2})('''|"""|'|")/.exec(s);
  if (!m) return undefined;
  const q = m[2];
  for (let j = m[0].length; j < s.length; j++) {
    if (s[j] === '\\') {
      j++;
      continue;
    }
    if (s.startsWith(q, j)) return { prefix: m[1], body: s.slice(m[0].length, j), end: j + q.length };
  }
  return undefined;
}

/**
 * The text of one element as the program receives it, with `${__py_N}` for the Python
 * expressions in it (`str(port)`, f-string fields, `.format` / `%` arguments).
 */
export function pyWord(expr: string, offset: number, holes: PythonCommand['holes']): string {
  const e = expr.trim();
  const hole = (x: string) => {
    holes.push({ expr: x.trim(), offset });
    return `\${__py_${holes.length - 1}}`;
  };
  const parts = splitTopLevel(e, '+');
  if (parts.length > 1) return parts.map((p) => pyWord(p.text, offset, holes)).join('');
  const lit = stringAt(e);
  if (!lit) return hole(e);
  const raw = /r/i.test(lit.prefix);
  const unescape = (s: string) => (raw ? s : s.replace(/\\(.)/g, '$1'));
  const rest = e.slice(lit.end).trim();
  if (/f/i.test(lit.prefix)) return rest ? hole(e) : fields(lit.body, (field) => hole(field.replace(/(![rsa])?(:[^:]*)?$/, '')), unescape);
  if (!rest) return unescape(lit.body);
  if (/^\.format\s*\(/.test(rest)) {
    const { args } = callArgsAt(rest, rest.indexOf('('));
    const positional = args.filter((a) => !/^[A-Za-z_]\w*\s*=(?!=)/.test(a.text)).map((a) => a.text);
    const named = new Map(args.map((a) => /^([A-Za-z_]\w*)\s*=(?!=)\s*([\s\S]+)$/.exec(a.text)).filter((x) => x !== null).map((x) => [x![1], x![2]]));
    let next = 0;
    return fields(lit.body, (field) => {
      const key = field.replace(/(![rsa])?(:[^:]*)?$/, '').trim();
      const value = key === '' ? positional[next++] : /^\d+$/.test(key) ? positional[Number(key)] : named.get(key);
      return hole(value ?? '?');
    }, unescape);
  }
  if (/^%/.test(rest)) {
    const operand = rest.slice(1).trim();
    const values = operand.startsWith('(') ? callArgsAt(operand, 0).args.map((a) => a.text) : [operand];
    let next = 0;
    return unescape(lit.body).replace(/%(\([^)]*\))?[-+ #0]*\d*(?:\.\d+)?([sdirf%])/g, (all, key: string | undefined, conv: string) => {
      if (conv === '%') return '%';
      return hole(key ? '?' : (values[next++] ?? '?'));
    });
  }
  return hole(e);
}

/** Replaces `{field}` of a format string (f-string or `.format`) with `fill(field)`; `{{`/`}}` are braces. */
function fields(body: string, fill: (field: string) => string, unescape: (s: string) => string): string {
  let out = '';
  let lit = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if ((c === '{' || c === '}') && body[i + 1] === c) {
      lit += c;
      i++;
      continue;
    }
    if (c !== '{') {
      lit += c;
      continue;
    }
    let depth = 1;
    let j = i + 1;
    for (; j < body.length && depth > 0; j++) {
      if (body[j] === '{') depth++;
      else if (body[j] === '}') depth--;
    }
    out += unescape(lit) + fill(body.slice(i + 1, j - 1));
    lit = '';
    i = j - 1;
  }
  return out + unescape(lit);
}
