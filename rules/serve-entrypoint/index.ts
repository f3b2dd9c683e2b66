import path from 'node:path';
import { APP_FILE_GLOBS } from '../../src/analysis/app-files.js';
import { defineRule, docsUrl, type FindingInput } from '../../src/engine/types.js';
import type { CommandSpec, ContainerModel } from '../../src/model/container-model.js';
import type { Location } from '../../src/model/location.js';
import { locateInFile, type VirtualFile } from '../../src/model/vfs.js';

const ID = 'serve-entrypoint';

/** Docker's PATH when neither the image nor its base sets one. */
const DEFAULT_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/**
 * Servers whose CLI takes positional arguments or rejects unknown ones: an appended `serve` breaks
 * them. `java -jar app.jar` is not one: the program's main() receives `serve` as an argument.
 */
const SERVER_CLIS = /^(gunicorn|uvicorn|hypercorn|daphne|waitress-serve|flask|granian|nginx|httpd|apache2|tensorflow_model_server|torchserve|multi-model-server|tritonserver|streamlit|mlflow|bentoml)$/;

/** Init wrappers that run the rest of their arguments: `tini -- a b` runs `a b`. */
const INIT_WRAPPERS = /^(tini|tini-static|dumb-init|catatonit|env)$/;

/**
 * Public base images known not to ship an executable named `serve`: when nothing else provides
 * one, `docker run <image> serve` fails for sure. Any other external base may bring its own.
 */
const PLAIN_BASES = /^(?:docker\.io\/)?(?:library\/)?(python|node|ubuntu|debian|alpine|busybox|nginx|httpd|amazonlinux|centos|fedora|rockylinux|almalinux|archlinux|golang|rust|openjdk|eclipse-temurin|amazoncorretto|ruby|php|bash|buildpack-deps)(?::[^/]*)?(?:@sha256:[0-9a-f]+)?$|^(?:public\.ecr\.aws\/(?:docker\/library|amazonlinux|lts)\/|gcr\.io\/distroless\/|nvidia\/cuda|nvcr\.io\/nvidia\/cuda|pytorch\/pytorch|tensorflow\/tensorflow|continuumio\/|mambaorg\/micromamba|condaforge\/|redhat\/ubi|registry\.access\.redhat\.com\/ubi)/;

/** The container's PATH; a PATH that extends the base's (`ENV PATH=/x:$PATH`) keeps Docker's default dirs. */
function servePath(model: ContainerModel): string[] {
  const v = model.env.get('PATH');
  if (!v) return DEFAULT_PATH;
  const dirs = v.value.split(':').filter(Boolean);
  if (v.unresolved?.includes('PATH')) for (const d of DEFAULT_PATH) if (!dirs.includes(d)) dirs.push(d);
  return dirs;
}

function findOnPath(model: ContainerModel, name: string): VirtualFile | undefined {
  for (const dir of servePath(model)) {
    const f = model.files.get(path.posix.join(dir, name));
    if (f && f.type !== 'dir') return f;
  }
  return undefined;
}

/** Where to point at for a file: the COPY that brought it in, else its first line. */
function fileLocation(f: VirtualFile): Location {
  return f.origin.kind === 'layer' ? locateInFile(f, 1) : f.origin.copiedBy;
}

/** A console script named `serve` (setup.py entry_points, setup.cfg, pyproject [project.scripts]) of a package that RUN installs. */
function consoleScriptServe(model: ContainerModel): boolean {
  const installsLocal = model.buildSteps.some((s) => /\bpip3?\s+install\b[^\n&;|]*?(\s\.(\[[^\]]*\])?(\s|$)|\s\/\S*|\s-e\s|\s\.\/\S*)/.test(s.script));
  if (!installsLocal) return false;
  for (const f of model.files.glob(['**/setup.py', '**/setup.cfg', '**/pyproject.toml'])) {
    const text = model.files.readText(f) ?? '';
    if (/(^|['"\s])serve\s*=\s*['"]?[\w.]+:[\w.]+/m.test(text)) return true;
  }
  return false;
}

/** Code lines of a shell script (comments dropped), to tell a real `serve` branch from a comment. */
function shellCode(text: string): string {
  return text
    .split(/\r?\n/)
    .map((l) => (/^\s*#/.test(l) ? '' : l.replace(/\s#.*$/, '')))
    .join('\n');
}

function lineOf(text: string, re: RegExp): number {
  const i = text.split(/\r?\n/).findIndex((l) => re.test(l));
  return i < 0 ? 1 : i + 1;
}

function describe(spec: CommandSpec): string {
  return spec.form === 'exec' ? `["${spec.args.join('", "')}"]` : spec.args[0];
}

export default defineRule({
  meta: {
    id: ID,
    target: 'container',
    defaultSeverity: 'error',
    description: '`docker run <image> serve` starts the server: an executable `serve` on PATH, or an ENTRYPOINT that handles the argument.',
    docsUrl: docsUrl(ID),
    files: APP_FILE_GLOBS,
  },
  check({ model, report }) {
    const ep = model.entrypoint;
    const cmdNote = model.cmd ? `; CMD ${describe(model.cmd)} never runs, SageMaker replaces it with \`serve\`` : '';

    const checkServeOnPath = (where: Location, how: string): void => {
      const f = findOnPath(model, 'serve');
      if (f) return checkExecutable(model, f, report);
      if (consoleScriptServe(model)) return;
      const elsewhere = model.files.all().find((x) => x.type !== 'dir' && path.posix.basename(x.path) === 'serve');
      if (elsewhere) {
        report({
          message: `${how} runs \`serve\` from PATH, but ${elsewhere.path} is not on PATH (${servePath(model).join(':')})`,
          location: fileLocation(elsewhere),
          help: `add ENV PATH="${path.posix.dirname(elsewhere.path)}:\${PATH}", or copy it to /usr/local/bin/serve`,
        });
        return;
      }
      const runMentions = model.buildSteps.find((s) => /(^|[\s/'"])serve(\s|$|['"])/m.test(s.script));
      const base = model.baseImage;
      const unknownBase = base?.kind === 'external' && !base.resolved && !PLAIN_BASES.test(base.ref);
      if (runMentions || unknownBase) {
        report({
          severity: 'info',
          message: runMentions
            ? `${how} runs \`serve\` from PATH; no COPY puts one there, and smcl cannot tell whether the RUN step at line ${runMentions.location.line} creates it; check with \`smcl image\` or \`smcl boot\``
            : `${how} runs \`serve\` from PATH; nothing this Dockerfile adds provides it, and the base image ${base!.ref} may; check with \`smcl image\` or \`smcl boot\``,
          location: runMentions?.location ?? base?.location ?? where,
        });
        return;
      }
      report({
        message: `${how} runs \`serve\` from PATH, and the image has no executable named serve${cmdNote}; the container exits at once`,
        location: model.cmd?.location ?? where,
        help: 'COPY --chmod=755 serve /usr/local/bin/serve (a script starting with #! that starts the server), or an ENTRYPOINT that starts the server and ignores its arguments',
      });
    };

    if (!ep || (ep.form === 'exec' && ep.args.length === 0)) {
      checkServeOnPath(model.subjectLocation, '`docker run <image> serve` (no ENTRYPOINT)');
      return;
    }
    // Shell form: /bin/sh -c "<script>" serve: the appended word becomes $0 and is ignored.
    if (ep.form === 'shell') return;

    // Init wrappers run what follows them (flags and `--` skipped): judge the rest.
    let words = [...ep.args];
    while (words.length && INIT_WRAPPERS.test(path.posix.basename(words[0]))) {
      const isEnv = path.posix.basename(words[0]) === 'env';
      words = words.slice(1);
      while (words.length && (words[0].startsWith('-') || (isEnv && /^[A-Za-z_]\w*=/.test(words[0])))) {
        const w = words.shift()!;
        if (w === '--') break;
      }
    }
    const wrapped = words.length !== ep.args.length ? ` (after ${path.posix.basename(ep.args[0])})` : '';
    if (words.length === 0) {
      checkServeOnPath(ep.location, `ENTRYPOINT ${describe(ep)}`);
      return;
    }

    const [exe, ...args] = words;
    const base = path.posix.basename(exe);
    const workdir = model.workdir?.value ?? '/';
    if (/^(ba|da|a)?sh$/.test(base) && args.length === 1 && args[0] === '-c') {
      checkServeOnPath(ep.location, `ENTRYPOINT ${describe(ep)} with \`serve\``);
      return;
    }
    if (/^(ba|da|a)?sh$/.test(base) && args.includes('-c')) return; // sh -c "script" serve: serve is $0.
    if (/^python(\d(\.\d+)?)?$/.test(base) && args.filter((a) => !a.startsWith('-')).length === 0) {
      const script = model.files.get(path.posix.join(workdir, 'serve'));
      if (!script) {
        report({
          message: `ENTRYPOINT ${describe(ep)} turns \`serve\` into \`${exe} serve\`, which needs a Python file named serve in WORKDIR ${workdir}; there is none`,
          location: ep.location,
          help: `COPY your server's start script to ${path.posix.join(workdir, 'serve')}, or set ENTRYPOINT ["${exe}", "/path/to/server.py"]`,
        });
        return;
      }
      const head = model.files.readText(script)?.slice(0, 200);
      if (head !== undefined && /^#!/.test(head) && !/^#!.*python/.test(head)) {
        report({
          message: `ENTRYPOINT ${describe(ep)} runs \`${exe} ${script.path}\`, but ${script.path} is a ${head.split('\n')[0].slice(2).trim()} script, not Python`,
          location: ep.location,
          help: 'drop the ENTRYPOINT so that `serve` runs by its #! line (with the file executable and on PATH)',
        });
      }
      return;
    }
    if (SERVER_CLIS.test(base)) {
      report({
        message: `ENTRYPOINT ${describe(ep)}${wrapped} gets \`serve\` appended by SageMaker: \`${base} ... serve\` passes "serve" to ${base} as an extra argument, which it does not expect`,
        location: ep.location,
        help: `use the shell form (ENTRYPOINT exec ${words.join(' ')}), which ignores the argument, or a script that handles it: [ "$1" = serve ] && shift; exec ${words.join(' ')}`,
      });
      return;
    }
    const script = model.files.get(exe.startsWith('/') ? exe : path.posix.join(workdir, exe)) ?? (exe.includes('/') ? undefined : findOnPath(model, exe));
    const target = /^python/.test(base) ? args.find((a) => !a.startsWith('-')) : undefined;
    if (target && args[args.indexOf(target) - 1] === '-m') return; // python -m module serve: module unknown here.
    const file = target ? model.files.get(target.startsWith('/') ? target : path.posix.join(workdir, target)) : script;
    if (!file) return;
    if (!target) checkExecutable(model, file, report);
    const text = model.files.readText(file);
    if (text === undefined) return;
    const isPython = target !== undefined || /^#!.*python/.test(text);
    const code = isPython ? text.replace(/#.*$/gm, '') : shellCode(text);
    const handlesServe = /\bserve\b/.test(code);
    if (!isPython && /exec\s+"?\$(@|\{@\}|\*)"?/.test(code) && !handlesServe) {
      checkServeOnPath(locateInFile(file, lineOf(text, /^\s*[^#]*exec\s+"?\$/)), `${file.path} ends with exec "$@", which`);
      return;
    }
    // A positional argument (add_argument("mode", ...)) takes the appended word; only options-only parsers reject it.
    const positional = /add_argument\(\s*['"][^-'"]/.test(code);
    if (isPython && /\bparse_args\(\s*\)/.test(code) && !handlesServe && !positional) {
      report({
        severity: 'warning',
        message: `${file.path} parses its arguments with argparse and does not mention "serve"; SageMaker appends \`serve\`, which argparse rejects as an unrecognized argument (exit code 2) unless the parser takes a positional`,
        location: locateInFile(file, lineOf(text, /parse_args\(/)),
        help: 'accept the argument: parser.add_argument("mode", nargs="?", default="serve"), or call parser.parse_known_args()',
      });
    }
  },
});

function checkExecutable(model: ContainerModel, f: VirtualFile, report: (f: FindingInput) => void): void {
  if (model.files.isExecutable(f.path) === false) {
    report({
      message: `${f.path} is not executable (mode ${(f.mode ?? 0).toString(8)}), so running it fails with "permission denied"`,
      location: fileLocation(f),
      help: `COPY --chmod=755 ..., or RUN chmod +x ${f.path}, or commit the file with its executable bit (git update-index --chmod=+x)`,
      // The file in the build context gets its executable bits (what `git update-index --chmod=+x` records).
      fix: f.origin.kind === 'context' ? { file: f.origin.diskPath, description: `chmod +x ${f.origin.display}`, addMode: 0o111 } : undefined,
    });
    return;
  }
  const text = model.files.readText(f);
  if (text !== undefined && text.length > 0 && !text.startsWith('#!') && !text.startsWith('\u007fELF')) {
    report({
      message: `${f.path} is a script without a #! line, so running it fails with "exec format error"`,
      location: locateInFile(f, 1, 1),
      help: 'start the file with #!/bin/sh (or #!/usr/bin/env python3)',
    });
  }
}
