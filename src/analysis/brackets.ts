/**
 * The one bracket-and-string scanner of the code analysis: walks `text` from `start`, skipping
 * string literals (backslash escapes inside them), and calls `visit` for every other character
 * with the bracket depth after that character: `(`, `[` and `{` raise it, `)`, `]` and `}` lower
 * it. The walk stops where `visit` returns true; the return value is that index (or text.length).
 */
export function scanCode(text: string, start: number, visit: (c: string, i: number, depth: number) => boolean | void, quotes = `"'`): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (quotes.includes(c)) {
      quote = c;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    if (visit(c, i, depth)) return i;
  }
  return text.length;
}

export function isCloser(c: string): boolean {
  return c === ')' || c === ']' || c === '}';
}
