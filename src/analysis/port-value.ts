import type { Location } from '../model/location.js';

/**
 * Where a port number comes from, as far as static reading can follow it. Readers for shell,
 * Python, JavaScript, nginx and server configs all reduce a port expression to one of these, so
 * the rules judge every language the same way.
 */
export type PortValue =
  /** Taken from SAGEMAKER_BIND_TO_PORT (directly, or through variables assigned from it). */
  | { kind: 'bind-env'; via: string[] }
  /** Derived from SAGEMAKER_SAFE_PORT_RANGE. */
  | { kind: 'safe-range'; via: string[] }
  /** A fixed number at run time under SageMaker. `envDefault` names a non-SageMaker variable whose default it is. */
  | { kind: 'literal'; port: number; via: string[]; envDefault?: string; origin?: PortOrigin }
  /** A unix socket: no TCP port, nothing to check. */
  | { kind: 'unix' }
  /** Could not be followed (computed, read from a file, ...). */
  | { kind: 'unknown'; expr: string };

/**
 * Where a literal port was written when it is not at the bind itself: a line of the same file
 * (`PORT=8080` above `--port $PORT`), or a location elsewhere (a Dockerfile `ENV PORT=8080`).
 */
export type PortOrigin = { line: number } | { location: Location };

export const BIND_ENV = 'SAGEMAKER_BIND_TO_PORT';
export const SAFE_RANGE_ENV = 'SAGEMAKER_SAFE_PORT_RANGE';

/** How many assignment hops are followed before giving up (and guards against `A=$B; B=$A`). */
export const MAX_HOPS = 8;

export function describePort(v: PortValue): string {
  switch (v.kind) {
    case 'bind-env':
      return `from ${BIND_ENV}`;
    case 'safe-range':
      return `from ${SAFE_RANGE_ENV}`;
    case 'unix':
      return 'a unix socket';
    case 'unknown':
      return `not known statically (${v.expr})`;
    case 'literal': {
      const chain = v.via.length ? ` (through ${v.via.join(' → ')})` : '';
      return v.envDefault ? `${v.port}, the default of $${v.envDefault}${chain}` : `${v.port}${chain}`;
    }
  }
}

/** A bare port number or `host:port` / `[::]:port` / `http://host:port/path`. */
export function portFromText(text: string): number | undefined {
  const t = text.trim().replace(/^['"]|['"]$/g, '');
  let m = /^(\d{1,5})$/.exec(t);
  if (!m) m = /:(\d{1,5})(?:\/.*)?$/.exec(t);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n > 0 && n <= 65535 ? n : undefined;
}
