/** A logical shell line (continuations joined) with a way back to the physical line/column. */
export interface LogicalLine {
  /** First physical line (1-based). */
  line: number;
  text: string;
  /** Maps an offset in `text` to the physical line and 1-based column. */
  lines: (offset: number) => { line: number; column: number };
}

/** Joins `\`-continued lines so that a server command split over lines is read as one. */
export function joinShellLines(source: string): LogicalLine[] {
  const physical = source.split(/\r?\n/);
  const out: LogicalLine[] = [];
  let i = 0;
  while (i < physical.length) {
    const start = i;
    const pieces: Array<{ line: number; offset: number; text: string }> = [];
    let text = '';
    for (;;) {
      const raw = physical[i] ?? '';
      const continued = /\\$/.test(raw);
      const piece = continued ? raw.slice(0, -1) + ' ' : raw;
      pieces.push({ line: i + 1, offset: text.length, text: piece });
      text += piece;
      i++;
      if (!continued || i >= physical.length) break;
    }
    out.push({
      line: start + 1,
      text,
      lines: (offset) => {
        let p = pieces[0];
        for (const candidate of pieces) if (candidate.offset <= offset) p = candidate;
        return { line: p.line, column: offset - p.offset + 1 };
      },
    });
  }
  return out;
}
