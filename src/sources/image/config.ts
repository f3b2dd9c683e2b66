import { emptyModel, type BuildStep, type CommandSpec, type ContainerModel, type ExposedPort, type ModelValue } from '../../model/container-model.js';
import type { Location } from '../../model/location.js';
import type { ImageConfig } from './manifest.js';

/** Location of an image config field, e.g. `config.Labels`. */
export function configLocation(ref: string, field: string): Location {
  return { file: ref, image: { ref, path: field } };
}

function value(ref: string, field: string, v: string): ModelValue {
  return { value: v, raw: v, location: configLocation(ref, field) };
}

/**
 * `["/bin/sh","-c",script]` is what `CMD script` (shell form) becomes in an image config; it is
 * modelled as shell form so that rules treat images and Dockerfiles alike.
 */
function command(ref: string, field: string, words: string[] | null | undefined): CommandSpec | undefined {
  if (!Array.isArray(words) || words.length === 0) return undefined;
  const location = configLocation(ref, field);
  if (words.length === 3 && words[0] === '/bin/sh' && words[1] === '-c') return { form: 'shell', args: [words[2]], location };
  return { form: 'exec', args: words.map(String), location };
}

/**
 * A history `created_by` as a build step, or undefined for metadata-only steps
 * (`#(nop)` entries, BuildKit's `ENV`/`LABEL`/`COPY`...). Handles the classic
 * `/bin/sh -c script`, BuildKit's `RUN /bin/sh -c script # buildkit` and the
 * `|N A=1 B=2 /bin/sh -c script` build-arg prefix.
 */
export function historyStep(createdBy: string): { instruction: string; script: string } | undefined {
  let s = createdBy.trim();
  if (!s) return undefined;
  if (/#\(nop\)/.test(s)) return undefined;
  let buildkit = false;
  if (s.endsWith('# buildkit')) {
    buildkit = true;
    s = s.slice(0, -'# buildkit'.length).trim();
  }
  const m = /^([A-Z]+)\s+(.*)$/s.exec(s);
  if (m && m[1] !== 'RUN') return undefined; // BuildKit metadata step (COPY/ADD/ENV/...)
  if (m) s = m[2];
  else if (buildkit) return undefined;
  // Build args prefix: |2 A=1 B=2 <cmd>
  const args = /^\|\d+\s+/.exec(s);
  if (args) {
    s = s.slice(args[0].length);
    // Skip NAME=value words (values may be quoted by buildkit).
    for (;;) {
      const w = /^[A-Za-z_][A-Za-z0-9_]*=(?:"(?:[^"\\]|\\.)*"|'[^']*'|\S*)\s+/.exec(s);
      if (!w) break;
      s = s.slice(w[0].length);
    }
  }
  const sh = /^\/bin\/(?:ba)?sh\s+-c\s+(.*)$/s.exec(s);
  return { instruction: 'RUN', script: sh ? sh[1] : s };
}

export function parseExposedPort(spec: string): { port: number; protocol: 'tcp' | 'udp' } | undefined {
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(spec.trim());
  if (!m) return undefined;
  const port = Number(m[1]);
  const protocol = (m[2] ?? 'tcp').toLowerCase();
  if (port < 1 || port > 65535 || (protocol !== 'tcp' && protocol !== 'udp')) return undefined;
  return { port, protocol: protocol as 'tcp' | 'udp' };
}

/** Fills a model from an image config (everything but the file system). */
export function modelFromConfig(ref: string, config: ImageConfig, annotations?: Record<string, string>): ContainerModel {
  const model = emptyModel('image', ref, { file: ref, image: { ref } });
  const c = config.config ?? {};
  for (const [k, v] of Object.entries(c.Labels ?? {})) model.labels.set(k, value(ref, 'config.Labels', String(v)));
  for (const kv of c.Env ?? []) {
    const i = kv.indexOf('=');
    const key = i < 0 ? kv : kv.slice(0, i);
    model.env.set(key, value(ref, 'config.Env', i < 0 ? '' : kv.slice(i + 1)));
  }
  const ports: ExposedPort[] = [];
  for (const spec of Object.keys(c.ExposedPorts ?? {})) {
    const p = parseExposedPort(spec);
    if (p) ports.push({ ...p, raw: spec, location: configLocation(ref, 'config.ExposedPorts') });
    else model.gaps.push({ message: `exposed port "${spec}" is not understood`, location: configLocation(ref, 'config.ExposedPorts') });
  }
  model.exposedPorts = ports;
  model.entrypoint = command(ref, 'config.Entrypoint', c.Entrypoint);
  model.cmd = command(ref, 'config.Cmd', c.Cmd);
  if (c.User) model.user = value(ref, 'config.User', c.User);
  if (c.WorkingDir) model.workdir = value(ref, 'config.WorkingDir', c.WorkingDir);
  if (config.os || config.architecture) {
    model.platform = { os: config.os ?? '', architecture: config.architecture ?? '' };
    if (config.variant) model.platform.variant = config.variant;
  }
  const test = c.Healthcheck?.Test;
  if (Array.isArray(test) && test.length > 0 && test[0] !== 'NONE') {
    const location = configLocation(ref, 'config.Healthcheck');
    if (test[0] === 'CMD-SHELL') model.healthcheck = { form: 'shell', args: [test.slice(1).join(' ')], location };
    else if (test[0] === 'CMD') model.healthcheck = { form: 'exec', args: test.slice(1), location };
  }
  const steps: BuildStep[] = [];
  (config.history ?? []).forEach((h, i) => {
    const step = h.created_by ? historyStep(h.created_by) : undefined;
    if (step) steps.push({ ...step, location: configLocation(ref, `history[${i}].created_by`) });
  });
  model.buildSteps = steps;
  const base = annotations?.['org.opencontainers.image.base.name'];
  if (base) model.baseImage = { ref: base, kind: 'external', resolved: true };
  return model;
}
