import fs from 'node:fs';
import path from 'node:path';
import {
  DockerfileParser,
  type Dockerfile,
  type Instruction,
  type From,
  type Property,
  type PropertyInstruction,
  type ModifiableInstruction,
  type JSONInstruction,
  type Heredoc,
} from 'dockerfile-ast';
import type { Range } from 'vscode-languageserver-types';
import { emptyModel, type BaseImageInfo, type BuildStep, type CommandSpec, type ContainerModel, type ExposedPort, type ModelValue, type StageSummary, type Suppression } from '../../model/container-model.js';
import type { Location } from '../../model/location.js';
import { MAX_TEXT_FILE_BYTES, looksBinary, normalisePath, VirtualFileSystem } from '../../model/vfs.js';
import { InputError } from '../../engine/types.js';
import { BuildContext } from './context.js';
import { expandWord, type Expansion } from './expand.js';
import { applyRunEffects } from './run-effects.js';
import './ast-memo.js';

export interface DockerfileInput {
  /** Path of the Dockerfile as given by the user (`-` for stdin, with `text`). */
  file: string;
  /** Content when already read (stdin, tests); otherwise the file is read. */
  text?: string;
  /** Build context directory; defaults to the Dockerfile's directory (cwd for stdin). */
  context?: string;
  /** Stage to lint, by name or index; defaults to the last stage. */
  target?: string;
  buildArgs?: Record<string, string>;
}

interface StageState {
  index: number;
  name?: string;
  base: BaseImageInfo;
  location: Location;
  platform?: ContainerModel['platform'];
  /** ARGs in scope in this stage: name → value (undefined when declared without value). */
  args: Map<string, string | undefined>;
  env: Map<string, ModelValue>;
  labels: Map<string, ModelValue>;
  exposedPorts: ExposedPort[];
  entrypoint?: CommandSpec;
  cmd?: CommandSpec;
  user?: ModelValue;
  workdir?: ModelValue;
  healthcheck?: CommandSpec;
  buildSteps: BuildStep[];
  files: VirtualFileSystem;
}

/** Build args Docker predefines; they need `ARG NAME` in the stage to be visible, like in BuildKit. */
const PREDEFINED_ARGS: Record<string, string> = {
  TARGETPLATFORM: 'linux/amd64',
  TARGETOS: 'linux',
  TARGETARCH: 'amd64',
  TARGETVARIANT: '',
  BUILDPLATFORM: 'linux/amd64',
  BUILDOS: 'linux',
  BUILDARCH: 'amd64',
  BUILDVARIANT: '',
};

export function readDockerfileText(file: string): string {
  let buf: Buffer;
  try {
    const st = fs.statSync(file);
    if (st.isDirectory()) throw new InputError(`${file}: is a directory, not a Dockerfile`);
    buf = fs.readFileSync(file);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${file}: cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return decodeDockerfile(buf, file);
}

export function decodeDockerfile(buf: Buffer, file: string): string {
  if (looksBinary(buf)) throw new InputError(`${file}: looks like a binary file, not a Dockerfile`);
  return buf.toString('utf8').replace(/^\uFEFF/, '');
}

/**
 * The text handed to dockerfile-ast. Docker splits a Dockerfile into lines at LF (CRLF too) only,
 * and so does every other line count in smcl (code frames, build-context analysis); dockerfile-ast
 * also breaks lines at a lone CR, which shifted every location after one past the end of the file.
 * A lone CR becomes a space here (same length, so columns and offsets are unchanged; Docker
 * treats it as whitespace inside the line too).
 */
export function parserText(text: string): string {
  return text.includes('\r') ? text.replace(/\r(?!\n)/g, ' ') : text;
}

export interface StageInfo {
  index: number;
  name?: string;
  base: string;
  line: number;
  /** Other stages only COPY --from it (a builder stage), none builds FROM it: not an image to ship. */
  copiedFromOnly: boolean;
}

/** The stages of a Dockerfile, for `--target all` and for naming targets in errors. */
export function listStages(text: string): StageInfo[] {
  return stagesOf(DockerfileParser.parse(parserText(text)));
}

function stagesOf(df: Dockerfile): StageInfo[] {
  const froms = df.getFROMs();
  const names = froms.map((f) => f.getBuildStage() ?? undefined);
  const usedAsBase = new Set<string>();
  const copiedFrom = new Set<string>();
  for (const f of froms) if (f.getImageName()) usedAsBase.add(f.getImageName()!.toLowerCase());
  for (const c of df.getCOPYs()) {
    const from = c.getFromFlag()?.getValue();
    if (from) copiedFrom.add(from.toLowerCase());
  }
  return froms.map((f, index) => {
    const name = names[index];
    const keys = [String(index), name?.toLowerCase()].filter(Boolean) as string[];
    return {
      index,
      name,
      base: f.getImage() ?? '',
      line: f.getRange().start.line + 1,
      copiedFromOnly: keys.some((k) => copiedFrom.has(k)) && !keys.some((k) => usedAsBase.has(k)),
    };
  });
}

/**
 * Reads a Dockerfile and its build context into the container model of one stage.
 * Throws InputError for input that is not a Dockerfile (empty, binary, no FROM, unknown target).
 */
export function loadDockerfile(input: DockerfileInput): ContainerModel {
  return builderFor(input).build(input.target);
}

/**
 * The models of every stage that can be built as an image to ship (`--target all`: all stages but
 * those other stages only COPY --from), from one parse and one pass over the instructions.
 */
export function loadDockerfileTargets(input: Omit<DockerfileInput, 'target'>): Array<{ target: string; model: ContainerModel }> {
  const builder = builderFor(input);
  return stagesOf(builder.df)
    .filter((s) => !s.copiedFromOnly)
    .map((s) => {
      const target = s.name ?? String(s.index);
      return { target, model: builder.build(target) };
    });
}

function builderFor(input: DockerfileInput): ModelBuilder {
  const file = input.file;
  const text = input.text ?? readDockerfileText(file);
  if (text.trim() === '') throw new InputError(`${file}: the Dockerfile is empty`);
  const contextDir = input.context ?? (file === '-' ? process.cwd() : path.dirname(file));
  if (!fs.existsSync(contextDir) || !fs.statSync(contextDir).isDirectory()) {
    throw new InputError(`${contextDir}: build context is not a directory`);
  }
  const df = DockerfileParser.parse(parserText(text));
  const froms = df.getFROMs();
  if (froms.length === 0) throw new InputError(`${file}: no FROM instruction; is this a Dockerfile?`);
  return new ModelBuilder(file, text, df, new BuildContext(contextDir, file === '-' ? undefined : file), input.buildArgs ?? {});
}

class ModelBuilder {
  private readonly escape: string;
  private readonly lines: string[];
  private readonly gaps: ContainerModel['gaps'] = [];
  private readonly stages: StageState[] = [];
  private readonly globalArgs = new Map<string, string | undefined>();

  /** Set once every instruction has been applied (the first `build`); later builds only pick a stage. */
  private applied = false;

  constructor(
    private readonly file: string,
    private readonly text: string,
    readonly df: Dockerfile,
    private readonly context: BuildContext,
    private readonly buildArgs: Record<string, string>,
  ) {
    this.escape = df.getEscapeCharacter();
    this.lines = text.split(/\r?\n/);
  }

  /** The model of one stage (default: the last). Every stage is built on the first call. */
  build(target?: string): ContainerModel {
    if (!this.applied) this.applyAll();
    const stage = this.pickTarget(target);
    const model = emptyModel('dockerfile', this.file, stage.location);
    model.target = stage.name ?? String(stage.index);
    model.baseImage = stage.base;
    model.labels = stage.labels;
    model.env = stage.env;
    model.exposedPorts = stage.exposedPorts;
    model.entrypoint = stage.entrypoint;
    model.cmd = stage.cmd;
    model.user = stage.user;
    model.workdir = stage.workdir;
    model.healthcheck = stage.healthcheck;
    model.platform = stage.platform;
    model.buildSteps = stage.buildSteps;
    model.files = stage.files;
    model.otherStages = this.stages.filter((s) => s !== stage).map(summarise);
    model.suppressions = this.pragmas();
    model.sourceTexts.set(this.file, this.text);
    model.gaps = [...this.gaps];
    if (this.context.truncated) {
      model.gaps.push({ message: `build context ${this.context.root} has more files than smcl reads; some COPY sources were not examined`, location: stage.location });
    }
    return model;
  }

  private applyAll(): void {
    this.applied = true;
    let current: StageState | undefined;
    for (const ins of this.df.getInstructions()) {
      const keyword = ins.getKeyword();
      if (keyword === 'FROM') {
        current = this.startStage(ins as From);
        this.stages.push(current);
        continue;
      }
      if (!current) {
        if (keyword === 'ARG') this.declareArgs(ins as PropertyInstruction, this.globalArgs, true);
        continue;
      }
      this.apply(current, ins);
    }
  }

  private pickTarget(target?: string): StageState {
    if (target === undefined) return this.stages[this.stages.length - 1];
    const found = this.stages.find((s) => s.name?.toLowerCase() === target.toLowerCase()) ?? (/^\d+$/.test(target) ? this.stages[Number(target)] : undefined);
    if (!found) {
      const names = this.stages.map((s) => s.name ?? String(s.index)).join(', ');
      throw new InputError(`${this.file}: no build stage named "${target}" (stages: ${names})`);
    }
    return found;
  }

  private loc(range: Range): Location {
    return { file: this.file, line: range.start.line + 1, column: range.start.character + 1, endLine: range.end.line + 1, endColumn: range.end.character + 1 };
  }

  private startStage(from: From): StageState {
    const location = this.loc(from.getRange());
    const lookupGlobal = (n: string) => this.argValue(this.globalArgs, n);
    const imageRaw = from.getImage() ?? '';
    const image = expandWord(imageRaw, lookupGlobal, this.escape).value;
    const name = from.getBuildStage() ?? undefined;
    const platformFlag = from.getPlatformFlag()?.getValue();
    const parent = this.stages.find((s) => s.name && s.name.toLowerCase() === image.toLowerCase());
    const index = this.stages.length;
    const stage: StageState = parent
      ? {
          ...parent,
          index,
          name,
          location,
          base: { ref: image, kind: 'stage', location },
          args: new Map(),
          env: new Map([...parent.env].map(([k, v]) => [k, { ...v, inheritedFrom: parent.name }])),
          labels: new Map([...parent.labels].map(([k, v]) => [k, { ...v, inheritedFrom: parent.name }])),
          exposedPorts: [...parent.exposedPorts],
          buildSteps: [...parent.buildSteps],
          files: parent.files.clone(),
        }
      : {
          index,
          name,
          location,
          base: { ref: image, kind: image.toLowerCase() === 'scratch' ? 'scratch' : 'external', location },
          args: new Map(),
          env: new Map(),
          labels: new Map(),
          exposedPorts: [],
          buildSteps: [],
          files: new VirtualFileSystem(),
        };
    if (platformFlag) {
      const p = expandWord(platformFlag, lookupGlobal, this.escape).value;
      const [os, architecture, variant] = p.split('/');
      if (os && architecture) stage.platform = { os, architecture, variant };
    }
    return stage;
  }

  private argValue(args: Map<string, string | undefined>, name: string): string | undefined {
    if (!args.has(name)) return undefined;
    if (name in this.buildArgs) return this.buildArgs[name];
    return args.get(name);
  }

  private lookup(stage: StageState): (name: string) => string | undefined {
    // ENV wins over ARG of the same name, as in Docker.
    return (name) => stage.env.get(name)?.value ?? this.argValue(stage.args, name);
  }

  private expand(stage: StageState, raw: string): Expansion {
    return expandWord(raw, this.lookup(stage), this.escape);
  }

  private declareArgs(ins: PropertyInstruction, into: Map<string, string | undefined>, global: boolean, stage?: StageState): void {
    for (const p of ins.getProperties()) {
      const name = p.getName();
      const raw = p.getUnescapedValue();
      let value: string | undefined;
      if (raw !== null) value = stage ? this.expand(stage, raw).value : expandWord(raw, (n) => this.argValue(this.globalArgs, n), this.escape).value;
      else if (!global && this.globalArgs.has(name)) value = this.globalArgs.get(name);
      else if (name in PREDEFINED_ARGS) value = PREDEFINED_ARGS[name];
      into.set(name, value);
    }
  }

  private apply(stage: StageState, ins: Instruction): void {
    const keyword = ins.getKeyword();
    const location = this.loc(ins.getRange());
    switch (keyword) {
      case 'ARG':
        this.declareArgs(ins as PropertyInstruction, stage.args, false, stage);
        break;
      case 'ENV':
        this.setProperties(stage, ins as PropertyInstruction, stage.env);
        break;
      case 'LABEL':
        this.setProperties(stage, ins as PropertyInstruction, stage.labels);
        break;
      case 'EXPOSE':
        this.expose(stage, ins);
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = this.command(stage, ins as JSONInstruction, location);
        // Docker: setting ENTRYPOINT resets a CMD inherited from the base (not one set in this stage).
        if (stage.cmd && stage.cmd.location.file === this.file && (stage.cmd.location.line ?? 0) < (stage.location.line ?? 0)) stage.cmd = undefined;
        break;
      case 'CMD':
        stage.cmd = this.command(stage, ins as JSONInstruction, location);
        break;
      case 'HEALTHCHECK':
        stage.healthcheck = { form: 'shell', args: [ins.getArgumentsContent() ?? ''], location };
        break;
      case 'USER':
        stage.user = this.value(stage, ins.getArgumentsContent() ?? '', location);
        break;
      case 'WORKDIR': {
        const v = this.value(stage, ins.getArgumentsContent() ?? '', location);
        v.value = normalisePath(v.value, stage.workdir?.value ?? '/');
        stage.workdir = v;
        break;
      }
      case 'RUN':
        this.run(stage, ins as ModifiableInstruction, location);
        break;
      case 'COPY':
      case 'ADD':
        this.copy(stage, ins as JSONInstruction, location, keyword);
        break;
      default:
        break;
    }
  }

  private value(stage: StageState, raw: string, location: Location): ModelValue {
    const e = this.expand(stage, raw.trim());
    return { value: e.value, raw, location, ...(e.unresolved.length ? { unresolved: e.unresolved } : {}) };
  }

  private setProperties(stage: StageState, ins: PropertyInstruction, into: Map<string, ModelValue>): void {
    // Values in one instruction are expanded against the state before it (Docker semantics).
    const before = this.lookup(stage);
    const updates: Array<[string, ModelValue]> = [];
    for (const p of ins.getProperties()) {
      const nameExp = expandWord(p.getName(), before, this.escape);
      const raw = p.getUnescapedValue() ?? '';
      const e = expandWord(raw, before, this.escape);
      const unresolved = [...nameExp.unresolved, ...e.unresolved];
      updates.push([nameExp.value, { value: e.value, raw, location: this.propertyLocation(p), ...(unresolved.length ? { unresolved } : {}) }]);
    }
    for (const [k, v] of updates) into.set(k, v);
  }

  private propertyLocation(p: Property): Location {
    return this.loc(p.getRange());
  }

  private expose(stage: StageState, ins: Instruction): void {
    for (const arg of ins.getArguments()) {
      const loc = this.loc(arg.getRange());
      const raw = arg.getValue();
      const v = this.expand(stage, raw).value;
      const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(v);
      if (!m) {
        this.gaps.push({ message: `EXPOSE ${raw}: not a port number after expansion ("${v}")`, location: loc });
        continue;
      }
      const low = Number(m[1]);
      const high = m[2] ? Number(m[2]) : low;
      const protocol = (m[3]?.toLowerCase() === 'udp' ? 'udp' : 'tcp') as 'tcp' | 'udp';
      // A range counts port by port (capped: EXPOSE 1-65535 would otherwise flood the model).
      for (let port = low; port <= Math.min(high, low + 1000); port++) stage.exposedPorts.push({ port, protocol, raw, location: loc });
    }
  }

  private command(stage: StageState, ins: JSONInstruction, location: Location): CommandSpec {
    const json = ins.getJSONStrings();
    const content = ins.getArgumentsContent() ?? '';
    if (json.length > 0 || /^\s*\[\s*\]\s*$/.test(content)) {
      // Exec form is not expanded by Docker (no shell): keep words as written.
      return { form: 'exec', args: json.map((s) => s.getJSONValue()), location };
    }
    return { form: 'shell', args: [this.joinContinuations(content)], location };
  }

  private joinContinuations(s: string): string {
    return s.replace(new RegExp(`${escapeRegExp(this.escape)}\\r?\\n`, 'g'), ' ');
  }

  private heredocText(h: Heredoc): { text: string; firstLine: number } {
    const r = h.getContentRange();
    if (!r) return { text: '', firstLine: h.getStartRange().start.line + 2 };
    const lines = this.lines.slice(r.start.line, r.end.line + 1);
    return { text: lines.join('\n') + '\n', firstLine: r.start.line + 1 };
  }

  private run(stage: StageState, ins: ModifiableInstruction, location: Location): void {
    const heredocs = (ins as unknown as { getHeredocs(): Heredoc[] }).getHeredocs?.() ?? [];
    const json = (ins as unknown as JSONInstruction).getJSONStrings?.() ?? [];
    let script: string;
    if (heredocs.length > 0) script = heredocs.map((h) => this.heredocText(h).text).join('\n');
    else if (json.length > 0) script = json.map((s) => s.getJSONValue()).join(' ');
    else {
      const flags = ins.getFlags().map((f) => f.toString());
      let content = this.joinContinuations(ins.getArgumentsContent() ?? '');
      for (const f of flags) content = content.replace(f, '');
      script = content.replace(/^\s*(--\S+\s+)*/, '').trim();
    }
    stage.buildSteps.push({ instruction: 'RUN', script, location });
    applyRunEffects(script, stage.files, stage.workdir?.value ?? '/');
  }

  private copy(stage: StageState, ins: JSONInstruction, location: Location, keyword: 'COPY' | 'ADD'): void {
    const flags = new Map(ins.getFlags().map((f) => [f.getName().toLowerCase(), f.getValue() ?? '']));
    const chmod = flags.get('chmod');
    const mode = chmod && /^[0-7]{3,4}$/.test(chmod) ? parseInt(chmod, 8) : undefined;
    const workdir = stage.workdir?.value ?? '/';
    const heredocs = (ins as unknown as { getHeredocs(): Heredoc[] }).getHeredocs?.() ?? [];

    if (heredocs.length > 0) {
      const firstLine = this.lines[ins.getRange().start.line] ?? '';
      const words = firstLine.trim().split(/\s+/).filter((w) => !w.startsWith('--') && !/^(COPY|ADD)$/i.test(w));
      const destRaw = words[words.length - 1] ?? '.';
      const dest = this.expand(stage, destRaw).value;
      for (const h of heredocs) {
        const { text, firstLine: first } = this.heredocText(h);
        const target = heredocs.length > 1 || dest.endsWith('/') ? normalisePath(`${dest}/${h.getName()}`, workdir) : normalisePath(dest, workdir);
        stage.files.add({
          path: target,
          type: 'file',
          mode: mode ?? 0o644,
          size: text.length,
          origin: { kind: 'heredoc', dockerfile: this.file, firstLine: first, copiedBy: location },
          text: () => text,
        });
      }
      return;
    }

    const json = ins.getJSONStrings();
    const words = json.length > 0 ? json.map((s) => s.getJSONValue()) : ins.getArguments().map((a) => a.getValue());
    if (words.length < 2) return;
    const expanded = words.map((w) => this.expand(stage, w).value);
    const destRaw = expanded[expanded.length - 1];
    const sources = expanded.slice(0, -1);
    const from = flags.get('from');
    const destIsDir = destRaw.endsWith('/') || sources.length > 1 || destRaw === '.';
    const dest = normalisePath(destRaw, workdir);

    if (from !== undefined) {
      this.copyFromStage(stage, from, sources, dest, destIsDir, mode, location);
      return;
    }
    for (const src of sources) {
      if (keyword === 'ADD' && /^(https?|git):\/\/|^git@/.test(src)) {
        this.gaps.push({ message: `ADD ${src}: remote source, its content is not known to smcl`, location });
        continue;
      }
      if (keyword === 'ADD' && /\.(tar|tar\.gz|tgz|tar\.bz2|tar\.xz|txz)$/.test(src)) {
        this.gaps.push({ message: `ADD ${src}: a local archive is extracted by ADD; its files are not examined`, location });
        continue;
      }
      const entries = this.context.resolve(src);
      if (entries.length === 0) {
        this.gaps.push({ message: `${keyword} ${src}: not found in the build context ${this.context.root}`, location });
        continue;
      }
      const single = entries.length === 1 && !destIsDir && entries[0].under === path.posix.basename(entries[0].rel);
      for (const e of entries) {
        const target = single ? dest : normalisePath(`${dest}/${e.under}`);
        const abs = e.abs;
        const display = path.relative(process.cwd(), abs) || abs;
        let cached: string | undefined | null = null;
        stage.files.add({
          path: target,
          type: e.type === 'symlink' ? 'symlink' : 'file',
          linkTarget: e.type === 'symlink' ? safeReadlink(abs) : undefined,
          mode: mode ?? e.mode,
          size: e.size,
          origin: { kind: 'context', diskPath: abs, display, copiedBy: location },
          text: () => {
            if (cached === null) cached = readContextText(abs, e.size);
            return cached;
          },
        });
      }
    }
  }

  private copyFromStage(stage: StageState, from: string, sources: string[], dest: string, destIsDir: boolean, mode: number | undefined, location: Location): void {
    const src = this.stages.find((s) => s.name?.toLowerCase() === from.toLowerCase()) ?? (/^\d+$/.test(from) ? this.stages[Number(from)] : undefined);
    if (!src) {
      this.gaps.push({ message: `COPY --from=${from}: files come from an image smcl has not read`, location });
      return;
    }
    for (const s of sources) {
      const p = normalisePath(s, '/');
      const matches = src.files.all().filter((f) => f.path === p || f.path.startsWith(p === '/' ? '/' : p + '/'));
      if (matches.length === 0) {
        this.gaps.push({ message: `COPY --from=${from} ${s}: not produced by a COPY in stage ${from} (it may be built by a RUN)`, location });
        continue;
      }
      for (const f of matches) {
        const rel = f.path === p ? path.posix.basename(p) : f.path.slice(p.length + 1);
        const target = f.path === p && !destIsDir ? dest : normalisePath(`${dest}/${rel}`);
        stage.files.add({ ...f, path: target, mode: mode ?? f.mode });
      }
    }
  }

  /** `# smcl-ignore a,b` applies to the next instruction; `# smcl-ignore-file a` to the whole subject. */
  private pragmas(): Suppression[] {
    const out: Suppression[] = [];
    const instructions = this.df.getInstructions();
    for (const c of this.df.getComments()) {
      const m = /^smcl-ignore(-file)?(?:\s+(.*))?$/.exec((c.getContent() ?? '').trim());
      if (!m) continue;
      const ids = (m[2] ?? '').split(/[\s,]+/).filter(Boolean);
      const ruleIds = ids.length ? ids : 'all';
      if (m[1]) {
        out.push({ file: '*', ruleIds, fromLine: 1, toLine: Number.MAX_SAFE_INTEGER });
        continue;
      }
      const line = c.getRange().start.line;
      const next = instructions.find((i) => i.getRange().start.line > line);
      if (next) out.push({ file: this.file, ruleIds, fromLine: next.getRange().start.line + 1, toLine: next.getRange().end.line + 1 });
    }
    return out;
  }
}

function summarise(s: StageState): StageSummary {
  return { index: s.index, name: s.name, baseImage: s.base.ref, location: s.location, labels: s.labels, env: s.env };
}

function readContextText(abs: string, size: number): string | undefined {
  if (size > MAX_TEXT_FILE_BYTES) return undefined;
  try {
    const buf = fs.readFileSync(abs);
    return looksBinary(buf) ? undefined : buf.toString('utf8');
  } catch {
    return undefined;
  }
}

function safeReadlink(p: string): string | undefined {
  try {
    return fs.readlinkSync(p);
  } catch {
    return undefined;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
