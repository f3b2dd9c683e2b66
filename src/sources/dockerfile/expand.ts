/**
 * Dockerfile word processing: quote removal, escapes and variable expansion, done in one pass
 * the way BuildKit's shell lexer does for ENV, LABEL, ARG, COPY, WORKDIR, EXPOSE, USER...
 *
 * Supported: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`,
 * single quotes (literal), double quotes (expand inside), the escape character (`\` or `` ` ``).
 * Unknown variables expand to '' and are reported in `unresolved`, so callers can tell
 * "set to empty" from "not known".
 */
export interface Expansion {
  value: string;
  unresolved: string[];
}

export type VarLookup = (name: string) => string | undefined;

export function expandWord(raw: string, lookup: VarLookup, escapeChar = '\\'): Expansion {
  const unresolved: string[] = [];
  let out = '';
  let i = 0;
  let quote: '"' | "'" | null = null;

  const readVar = (): string => {
    // at raw[i] === '$'
    const next = raw[i + 1];
    if (next === '{') {
      const close = findClose(raw, i + 2);
      if (close < 0) {
        // Unterminated: keep literally, like BuildKit's lenient mode.
        const rest = raw.slice(i);
        i = raw.length;
        return rest;
      }
      const body = raw.slice(i + 2, close);
      i = close + 1;
      return expandBraced(body);
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(raw.slice(i + 1));
    if (!m) {
      i++;
      return '$';
    }
    i += 1 + m[0].length;
    return valueOf(m[0]);
  };

  const valueOf = (name: string): string => {
    const v = lookup(name);
    if (v === undefined) {
      if (!unresolved.includes(name)) unresolved.push(name);
      return '';
    }
    return v;
  };

  const expandBraced = (body: string): string => {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([\s\S]*))?$/.exec(body);
    if (!m) return '${' + body + '}';
    const [, name, op, word = ''] = m;
    const v = lookup(name);
    if (!op) return valueOf(name);
    const colon = op.startsWith(':');
    const isSet = v !== undefined && (!colon || v !== '');
    const sub = (): string => {
      const inner = expandWord(word, lookup, escapeChar);
      for (const u of inner.unresolved) if (!unresolved.includes(u)) unresolved.push(u);
      return inner.value;
    };
    if (op.endsWith('-')) return isSet ? (v as string) : sub();
    return isSet ? sub() : '';
  };

  while (i < raw.length) {
    const c = raw[i];
    if (quote === "'") {
      if (c === "'") quote = null;
      else out += c;
      i++;
      continue;
    }
    if (c === escapeChar && i + 1 < raw.length) {
      const n = raw[i + 1];
      // Inside double quotes only a few characters are escapable; elsewhere the escape is literal.
      if (quote === '"' && !['"', '$', escapeChar, '\n'].includes(n)) out += c + n;
      else if (n !== '\n') out += n;
      i += 2;
      continue;
    }
    if (c === '"') {
      quote = quote === '"' ? null : '"';
      i++;
      continue;
    }
    if (c === "'" && quote === null) {
      quote = "'";
      i++;
      continue;
    }
    if (c === '$') {
      out += readVar();
      continue;
    }
    out += c;
    i++;
  }
  return { value: out, unresolved };
}

function findClose(s: string, from: number): number {
  let depth = 1;
  for (let j = from; j < s.length; j++) {
    if (s[j] === '{') depth++;
    else if (s[j] === '}' && --depth === 0) return j;
  }
  return -1;
}
