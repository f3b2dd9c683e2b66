import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import type { Location } from '../model/location.js';
import { positionAt } from '../model/location.js';
import { InputError } from '../engine/types.js';

/**
 * A parsed JSON/YAML document with positions, where CloudFormation intrinsics
 * (`!Ref x`, `{ "Fn::Sub": ... }`) are kept as opaque `intrinsic` nodes.
 */
export type SNode = SMap | SSeq | SScalar | SIntrinsic;

export interface SMap {
  kind: 'map';
  entries: Array<{ key: string; keyLocation: Location; value: SNode }>;
  location: Location;
}
export interface SSeq {
  kind: 'seq';
  items: SNode[];
  location: Location;
}
export interface SScalar {
  kind: 'scalar';
  value: string | number | boolean | null;
  location: Location;
}
export interface SIntrinsic {
  kind: 'intrinsic';
  /** `Ref`, `Fn::Sub`, `Fn::GetAtt`, ... (short forms are normalised to these names). */
  fn: string;
  /** The argument of the function. */
  arg: SNode;
  location: Location;
}

const SHORT_FORMS = [
  'Ref', 'Sub', 'GetAtt', 'Join', 'Select', 'Split', 'If', 'Equals', 'Not', 'And', 'Or', 'FindInMap',
  'Base64', 'Cidr', 'ImportValue', 'GetAZs', 'Condition', 'Transform', 'Length', 'ToJsonString', 'ForEach',
];

/** Custom tags for the CloudFormation short forms, so `yaml` accepts them on scalars, sequences and maps. */
const CFN_TAGS = SHORT_FORMS.flatMap((name) => [
  { tag: `!${name}`, resolve: (s: string) => s },
  { tag: `!${name}`, collection: 'seq' as const, resolve: (s: unknown) => s },
  { tag: `!${name}`, collection: 'map' as const, resolve: (s: unknown) => s },
]);

function intrinsicName(tagOrKey: string): string | undefined {
  if (tagOrKey === 'Ref' || tagOrKey === 'Condition') return tagOrKey;
  if (tagOrKey.startsWith('Fn::')) return tagOrKey;
  if (tagOrKey.startsWith('!')) {
    const name = tagOrKey.slice(1);
    return name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
  }
  return undefined;
}

/** Parses JSON or YAML text into an SNode tree; syntax errors throw `InputError` (`file:line: message`). */
export function parseTree(text: string, file: string): SNode {
  const looksJson = /\.json$/i.test(file) || /^\s*[{[]/.test(text);
  if (looksJson) {
    const err = findJsonError(text);
    if (err) {
      const { line } = positionAt(text, err.offset);
      throw new InputError(`${file}:${line}: invalid JSON: ${err.message}`);
    }
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, customTags: CFN_TAGS, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = lineCounter.linePos(e.pos[0]).line;
    const msg = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new InputError(`${file}:${line}: invalid ${looksJson ? 'JSON' : 'YAML'}: ${msg}`);
  }
  if (doc.contents === null) throw new InputError(`${file}:1: empty document`);
  const loc = (range: [number, number, number] | null | undefined): Location => {
    if (!range) return { file };
    const a = lineCounter.linePos(range[0]);
    const b = lineCounter.linePos(range[1]);
    return { file, line: a.line, column: a.col, endLine: b.line, endColumn: b.col };
  };
  const convert = (node: unknown): SNode => {
    const n = node as YamlNode;
    const location = loc(n?.range);
    const tag = (n as { tag?: string })?.tag;
    const fn = tag ? intrinsicName(tag) : undefined;
    let out: SNode;
    if (isMap(n)) {
      const entries: SMap['entries'] = [];
      for (const item of n.items) {
        if (!isPair(item)) continue;
        const k = item.key as YamlNode | null;
        const key = isScalar(k) ? String(k.value) : String(k);
        entries.push({ key, keyLocation: loc(k?.range), value: item.value == null ? { kind: 'scalar', value: null, location: loc(k?.range) } : convert(item.value) });
      }
      out = { kind: 'map', entries, location };
      if (!fn && entries.length === 1) {
        const long = intrinsicName(entries[0].key);
        if (long && long !== 'Condition') return { kind: 'intrinsic', fn: long, arg: entries[0].value, location };
      }
    } else if (isSeq(n)) {
      out = { kind: 'seq', items: n.items.map((i) => convert(i)), location };
    } else if (isScalar(n)) {
      const v = n.value;
      out = { kind: 'scalar', value: typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : v == null ? null : String(v), location };
    } else {
      out = { kind: 'scalar', value: null, location };
    }
    if (fn) return { kind: 'intrinsic', fn, arg: out, location };
    return out;
  };
  return convert(doc.contents);
}

/** Converts a plain JS value (e.g. a policy built in code) to an SNode tree without positions. */
export function treeFromValue(value: unknown, file: string): SNode {
  const location: Location = { file };
  if (Array.isArray(value)) return { kind: 'seq', items: value.map((v) => treeFromValue(v, file)), location };
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).map(([key, v]) => ({ key, keyLocation: location, value: treeFromValue(v, file) }));
    if (entries.length === 1) {
      const long = intrinsicName(entries[0].key);
      if (long && long !== 'Condition') return { kind: 'intrinsic', fn: long, arg: entries[0].value, location };
    }
    return { kind: 'map', entries, location };
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return { kind: 'scalar', value, location };
  return { kind: 'scalar', value: null, location };
}

export function get(node: SNode | undefined, key: string): SNode | undefined {
  if (!node || node.kind !== 'map') return undefined;
  return node.entries.find((e) => e.key === key)?.value;
}

export function getEntry(node: SNode | undefined, key: string): SMap['entries'][number] | undefined {
  if (!node || node.kind !== 'map') return undefined;
  return node.entries.find((e) => e.key === key);
}

/** A short printable form of an intrinsic, e.g. `!Ref EndpointName`. */
export function describeIntrinsic(n: SIntrinsic): string {
  const short = n.fn.replace(/^Fn::/, '');
  const arg = n.arg;
  if (arg.kind === 'scalar') return `!${short} ${String(arg.value)}`;
  if (arg.kind === 'seq' && arg.items.every((i) => i.kind === 'scalar')) return `!${short} [${arg.items.map((i) => String((i as SScalar).value)).join(', ')}]`;
  return `!${short} ...`;
}

/**
 * Strict JSON check (JSON.parse in Node 20 does not say where it failed).
 * Returns the offset and message of the first error, or undefined when `text` is valid JSON.
 */
export function findJsonError(text: string): { offset: number; message: string } | undefined {
  let i = 0;
  class Fail extends Error {
    constructor(message: string, public offset: number) {
      super(message);
    }
  }
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const fail = (msg: string): never => {
    throw new Fail(i >= text.length ? `unexpected end of input${msg ? ` (${msg})` : ''}` : `unexpected ${JSON.stringify(text[i])}${msg ? ` (${msg})` : ''}`, i);
  };
  const str = (): void => {
    i++; // opening quote
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i++;
            fail('bad \\u escape');
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else {
          i++;
          fail('bad escape');
        }
      } else if (c.charCodeAt(0) < 0x20) fail('control character in string');
      else i++;
    }
    fail('unterminated string');
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a property name');
        str();
        ws();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail('expected "," or "]"');
      }
    }
    if (c === '"') return str();
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|^true|^false|^null/.exec(text.slice(i, i + 400));
    if (!m) fail('expected a value');
    i += m![0].length;
  };
  try {
    if (text.charCodeAt(0) === 0xfeff) i = 1;
    value();
    ws();
    if (i < text.length) fail('after the end of the document');
    return undefined;
  } catch (e) {
    if (e instanceof Fail) return { offset: e.offset, message: e.message };
    throw e;
  }
}
