import { analyseBinds, literalLocation, type BindSite } from '../../src/analysis/binds.js';
import { APP_FILE_GLOBS, languageOf } from '../../src/analysis/app-files.js';
import { BIND_ENV, describePort } from '../../src/analysis/port-value.js';
import { installedToolkits } from '../../src/analysis/toolkits.js';
import { defineRule, docsUrl, type Fix } from '../../src/engine/types.js';
import type { ContainerModel } from '../../src/model/container-model.js';
import { offsetAt, type Location } from '../../src/model/location.js';

const ID = 'bind-to-port-env';

/** What to write instead, in the idiom of the server that binds. */
export function bindFix(site: BindSite): string {
  const s = site.server;
  if (s.startsWith('nginx')) return `listen \${${BIND_ENV}}; in a template that the start-up script fills with envsubst, or sed the port in from $${BIND_ENV} before nginx starts`;
  if (/\.[Rr]$/.test(site.location.file) && /^(plumber|httpuv)/.test(s)) return `port = as.integer(Sys.getenv("${BIND_ENV}", "8080"))`;
  if (/^gunicorn bind$/.test(s)) return `bind = f"0.0.0.0:{os.environ.get('${BIND_ENV}', '8080')}"`;
  if (/run\(|serve\(|HTTP server|listen\(\)/.test(s) && site.location.file.endsWith('.py')) return `port=int(os.environ.get("${BIND_ENV}", 8080))`;
  if (/listen\(\)/.test(s)) return `listen(Number(process.env.${BIND_ENV} ?? 8080))`;
  if (/inference_address/.test(s)) return `generate the file at start-up with inference_address=http://0.0.0.0:$${BIND_ENV} (or let the SageMaker toolkit write it)`;
  if (/server\.port/.test(s)) return `server.port=\${${BIND_ENV}:8080}`;
  if (/--bind|-b$/.test(s)) return `--bind "0.0.0.0:\${${BIND_ENV}:-8080}"`;
  return `use "\${${BIND_ENV}:-8080}" for the port`;
}

/**
 * The one fix that is safe without knowing the server: in a shell script from the build context,
 * the literal port (as in `--bind 0.0.0.0:8080` or `PORT=8080`) becomes
 * `${SAGEMAKER_BIND_TO_PORT:-8080}`, which the shell expands when the container starts. Not
 * inside single quotes (no expansion there) or after a `#` on the line.
 */
function shellPortFix(model: ContainerModel, site: BindSite, where: Location, port: number): Fix | undefined {
  const f = site.file;
  if (!f || f.origin.kind !== 'context' || where.line === undefined || where.column === undefined || where.endColumn === undefined) return undefined;
  if (where.file !== site.location.file) return undefined;
  const text = model.files.readText(f);
  if (text === undefined || languageOf(f, text) !== 'shell') return undefined;
  let start = offsetAt(text, where.line, where.column);
  const end = offsetAt(text, where.line, where.endColumn);
  // The location is the port itself, or a bind address ending in it (`0.0.0.0:8080`, `:8080`).
  const covered = text.slice(start, end);
  if (covered !== String(port)) {
    if (!/^[\w.\-\[\]]*:\d+$/.test(covered) || !covered.endsWith(`:${port}`)) return undefined;
    start = end - String(port).length;
  }
  const before = text.slice(offsetAt(text, where.line, 1), start);
  if ((before.match(/'/g) ?? []).length % 2 === 1 || before.includes('#') || /[$\w{]$/.test(before)) return undefined;
  const replacement = `\${${BIND_ENV}:-${port}}`;
  return { file: where.file, description: `${port} -> ${replacement} (line ${where.line})`, edits: [{ start, end, text: replacement }] };
}

export default defineRule({
  meta: {
    id: ID,
    target: 'container',
    defaultSeverity: 'error',
    description: `The server listens on the port in ${BIND_ENV}, falling back to 8080 only when it is absent.`,
    docsUrl: docsUrl(ID),
    files: APP_FILE_GLOBS,
    fixable: true,
  },
  check({ model, report }) {
    const analysis = analyseBinds(model);
    const serving = analysis.sites.filter((s) => s.role === 'serving');

    for (const site of serving) {
      const p = site.port;
      if (p.kind === 'literal') {
        const where = literalLocation(site, model.files);
        const usedAt = where === site.location ? '' : ` (used by ${site.server} at ${site.location.file}:${site.location.line})`;
        const why = p.envDefault
          ? `$${p.envDefault} is not set by SageMaker, so the server listens on ${p.port} unless something maps ${BIND_ENV} into ${p.envDefault}`
          : `SageMaker assigns each container of a multi-container endpoint its own port in ${BIND_ENV}; a fixed ${p.port} collides with the other containers and SageMaker's requests never reach it`;
        report({
          message: `${site.server} listens on ${describePort(p)}, not on ${BIND_ENV}${usedAt}: ${why}.`,
          location: where,
          help: bindFix(site),
          fix: p.envDefault ? undefined : shellPortFix(model, site, where, p.port),
        });
      } else if (p.kind === 'unknown') {
        report({
          severity: 'info',
          message: `could not tell where the port of ${site.server} comes from (${p.expr}); run \`smcl boot\` to check at run time`,
          location: site.location,
        });
      }
    }
    if (serving.length > 0) return;

    const toolkits = installedToolkits(model);
    const honouring = toolkits.find((t) => t.toolkit.bindsToPortEnv === 'yes');
    if (honouring) return;
    const unsure = toolkits.find((t) => t.toolkit.bindsToPortEnv === 'unknown');
    if (unsure) {
      report({
        severity: 'info',
        message: `the server is started by ${unsure.toolkit.name}${unsure.version ? ` ${unsure.version}` : ''}; whether it reads ${BIND_ENV} is not known to smcl; run \`smcl boot\` to check`,
        location: unsure.location,
      });
      return;
    }
    if (analysis.filesReadingBindEnv.length === 0 && model.exposedPorts.length > 0) {
      const p = model.exposedPorts[0];
      report({
        severity: 'warning',
        message: `EXPOSE ${p.raw} and no file of the image reads ${BIND_ENV}: the server most likely listens on a fixed port`,
        location: p.location,
        help: `make the server listen on \${${BIND_ENV}:-8080}`,
      });
      return;
    }
    report({
      severity: 'info',
      message:
        analysis.filesReadingBindEnv.length > 0
          ? `${BIND_ENV} is read in ${analysis.filesReadingBindEnv.map((f) => f.path).join(', ')}, but smcl did not recognise where the server binds; run \`smcl boot\` to check at run time`
          : `could not find where the server binds its port; run \`smcl boot\` to check at run time`,
      location: model.subjectLocation,
    });
  },
});
