/**
 * A code frame in the style of Biome/Babel: the offending line with two lines of context and a
 * caret under the span. Long lines are cut around the column so a minified file stays readable.
 */
export function codeFrame(text: string, line: number, column = 1, endColumn?: number, paint: (s: string) => string = (s) => s): string {
  const lines = text.split(/\r?\n/);
  if (line < 1 || line > lines.length) return '';
  const first = Math.max(1, line - 2);
  const last = Math.min(lines.length, line + 1);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    const raw = lines[n - 1].replace(/\t/g, '  ');
    const shown = raw.length > 160 ? clip(raw, n === line ? column : 1) : raw;
    const marker = n === line ? '>' : ' ';
    out.push(`  ${marker} ${String(n).padStart(width)} | ${shown}`);
    if (n === line) {
      const start = Math.max(1, column) - 1;
      const span = endColumn && endColumn > column ? endColumn - column : Math.max(1, raw.trimEnd().length - start);
      const offset = raw.length > 160 ? Math.min(start, 40) : start;
      out.push(`    ${' '.repeat(width)} | ${' '.repeat(offset)}${paint('^'.repeat(Math.min(span, 120)))}`);
    }
  }
  return out.join('\n');
}

function clip(s: string, column: number): string {
  const start = Math.max(0, column - 41);
  return (start > 0 ? '…' : '') + s.slice(start, start + 140) + (start + 140 < s.length ? '…' : '');
}
