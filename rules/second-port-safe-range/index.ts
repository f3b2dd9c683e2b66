import { analyseBinds } from '../../src/analysis/binds.js';
import { APP_FILE_GLOBS, appFiles } from '../../src/analysis/app-files.js';
import { SAFE_RANGE_ENV, describePort } from '../../src/analysis/port-value.js';
import { defineRule, docsUrl, type FindingInput } from '../../src/engine/types.js';
import { locateInFile } from '../../src/model/vfs.js';

const ID = 'second-port-safe-range';

/** `XXXX-YYYY`: multi-digit integers, low ≤ high, inside 1–65535. Returns why not, or undefined. */
export function safeRangeProblem(value: string): string | undefined {
  const m = /^(\d+)-(\d+)$/.exec(value.trim());
  if (!m) return `"${value}" is not an inclusive range XXXX-YYYY`;
  const [low, high] = [Number(m[1]), Number(m[2])];
  if (m[1].length < 2 || m[2].length < 2) return `"${value}": both ends must be multi-digit integers`;
  if (low > high) return `"${value}": the low end is above the high end`;
  if (low < 1 || high > 65535) return `"${value}": ports must lie in 1-65535`;
  return undefined;
}

export default defineRule({
  meta: {
    id: ID,
    target: 'container',
    defaultSeverity: 'error',
    description: `Any second listening port lies inside ${SAFE_RANGE_ENV}.`,
    docsUrl: docsUrl(ID),
    files: APP_FILE_GLOBS,
  },
  check({ model, report }) {
    const analysis = analyseBinds(model);
    const internal = analysis.sites.filter((s) => s.role === 'internal');
    const reportedPorts = new Set<number>();
    for (const site of internal) {
      if (site.port.kind === 'literal') {
        reportedPorts.add(site.port.port);
        report({
          message: `${site.server} opens a second port, ${describePort(site.port)}, that is not taken from ${SAFE_RANGE_ENV}; in a multi-container endpoint only ports inside that range are free for this container`,
          location: site.location,
          help: `pick the port from ${SAFE_RANGE_ENV} at start-up, e.g. in sh: LOW=\${${SAFE_RANGE_ENV}%-*}; use $LOW (and $((LOW+1)) ... up to the high end)`,
        });
      } else if (site.port.kind === 'unknown') {
        report({ severity: 'info', message: `could not tell where the second port of ${site.server} comes from (${site.port.expr}); run \`smcl boot\` to check`, location: site.location });
      }
    }

    // EXPOSE documents ports: more than one means a second port, which must come from the range.
    const servingPorts = new Set(analysis.sites.filter((s) => s.role === 'serving' && s.port.kind === 'literal').map((s) => (s.port as { port: number }).port));
    const primary = servingPorts.size ? [...servingPorts][0] : model.exposedPorts.some((p) => p.port === 8080) ? 8080 : model.exposedPorts[0]?.port;
    for (const p of model.exposedPorts) {
      if (p.port === primary || reportedPorts.has(p.port)) continue;
      reportedPorts.add(p.port);
      report({
        severity: 'warning',
        message: `EXPOSE ${p.port}: a second fixed port; in a multi-container endpoint a second port must be chosen from ${SAFE_RANGE_ENV} at start-up`,
        location: p.location,
        help: `remove the EXPOSE and bind the second port from ${SAFE_RANGE_ENV}`,
      });
    }

    // Literal ranges set in the image: SageMaker provides the variable, and a malformed one breaks parsers.
    const env = model.env.get(SAFE_RANGE_ENV);
    if (env) {
      const problem = safeRangeProblem(env.value);
      report({
        severity: problem ? 'error' : 'warning',
        message: problem ? `${SAFE_RANGE_ENV} ${problem}` : `${SAFE_RANGE_ENV} is set in the image (${env.value}); SageMaker sets it per container, so a fixed value only hides bugs in local runs`,
        location: env.location,
        help: `remove it from the image; pass it at run time when testing (smcl boot does)`,
      });
    }
    for (const f of appFiles(model)) {
      const text = model.files.readText(f);
      if (!text?.includes(SAFE_RANGE_ENV)) continue;
      checkRangeUse(text, (line, col) => locateInFile(f, line, col), report);
    }
  },
});

/**
 * Scripts that take the low end of the range and add to it without ever reading the high end
 * can step outside the range. Literal assignments of the variable are validated too.
 */
function checkRangeUse(text: string, at: (line: number, col?: number) => ReturnType<typeof locateInFile>, report: (f: FindingInput) => void): void {
  const lines = text.split(/\r?\n/);
  const readsHigh = /#\*-|-f\s*2|-f2|\.split\(['"]-['"]\)\[\s*(1|-1)\s*\]|\[1\]|\bhigh\b|\bupper\b|\bmax_port\b|\bend_port\b/i.test(text);
  lines.forEach((line, i) => {
    // `SAGEMAKER_SAFE_PORT_RANGE=9000-9999` or a shell default `${SAGEMAKER_SAFE_PORT_RANGE:=9000-9999}`.
    const literal = new RegExp(`${SAFE_RANGE_ENV}(?:=|:?[-=])['"]?([^'"\\s;}]+)`).exec(line);
    if (literal && !literal[1].startsWith('$') && !/environ|getenv|process\.env/.test(line)) {
      const problem = safeRangeProblem(literal[1]);
      if (problem) report({ message: `${SAFE_RANGE_ENV} ${problem}`, location: at(i + 1, line.indexOf(literal[1]) + 1) });
    }
    const add = /\+\s*(\d{2,5})\b/.exec(line);
    if (add && !readsHigh && /(low|start|base|first|port|range)/i.test(line)) {
      report({
        severity: 'warning',
        message: `adds ${add[1]} to the low end of ${SAFE_RANGE_ENV} without reading its high end: the port can fall outside the range`,
        location: at(i + 1, add.index + 1),
        help: 'read both ends (LOW=${R%-*}; HIGH=${R#*-}) and check the port stays ≤ HIGH',
      });
    }
  });
}
