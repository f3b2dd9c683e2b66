/**
 * Where something came from, or where a finding points.
 *
 * `file` is always printable: a path on disk (relative to the working directory when possible)
 * for Dockerfiles and build-context files, or `<image-ref>//<path in image>` for files found in
 * image layers. Lines and columns are 1-based, like every editor and SARIF.
 */
export interface Location {
  file: string;
  line?: number;
  column?: number;
  endLine?: number;
  endColumn?: number;
  /** Set when the location is inside a pulled image rather than a file on disk. */
  image?: ImageLocation;
}

export interface ImageLocation {
  ref: string;
  /** Layer digest (sha256:...) that the file came from; absent for image config fields. */
  layer?: string;
  /** Absolute path inside the image file system, or `config.<Field>` for image config fields. */
  path?: string;
}

/** Builds the printable `file` for a location inside an image. */
export function imageFileName(ref: string, pathInImage: string): string {
  return `${ref}//${pathInImage.replace(/^\/+/, '')}`;
}

export function formatLocation(loc: Location): string {
  let out = loc.file;
  if (loc.line !== undefined) {
    out += `:${loc.line}`;
    if (loc.column !== undefined) out += `:${loc.column}`;
  }
  if (loc.image?.layer) out += ` (layer ${loc.image.layer.slice(0, 19)})`;
  return out;
}

/** Converts a 0-based character offset in `text` to a 1-based line/column. */
export function positionAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** Offset in `text` of a 1-based line and column (lines end at LF, a CRLF's CR belongs to its line). */
export function offsetAt(text: string, line: number, column = 1): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', offset);
    if (nl === -1) return text.length;
    offset = nl + 1;
  }
  return Math.min(text.length, offset + column - 1);
}
