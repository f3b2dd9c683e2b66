import { existsSync } from 'node:fs';
import { InputError } from '../../engine/types.js';
import { isDigest } from './digest.js';

/** A parsed registry reference. `registry` is the host[:port] to talk to (docker.io → registry-1.docker.io). */
export interface RegistryReference {
  /** As normalised: `docker.io`, `ghcr.io`, `127.0.0.1:5000`. */
  domain: string;
  /** Host[:port] the API lives on. */
  registry: string;
  /** Repository path, e.g. `library/ubuntu`. */
  repository: string;
  tag?: string;
  digest?: string;
}

export type ImageSourceSpec =
  | { kind: 'registry'; ref: RegistryReference }
  | { kind: 'oci-dir'; path: string; name?: string }
  | { kind: 'oci-archive'; path: string; name?: string }
  | { kind: 'docker-archive'; path: string; name?: string }
  | { kind: 'engine'; engine: 'podman' | 'docker'; image: string };

const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API = 'registry-1.docker.io';
const REPO_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/**
 * Parses `[host[:port]/]repo[:tag][@sha256:...]` the way docker does: the first component is a
 * host when it has a `.` or `:`, is `localhost`, or has upper-case letters; otherwise the image
 * is on Docker Hub, and single-component names get `library/`. No tag and no digest → `latest`.
 */
export function parseRegistryReference(input: string): RegistryReference {
  let rest = input.trim();
  if (rest.startsWith('docker://')) rest = rest.slice('docker://'.length);
  if (!rest) throw new InputError('empty image reference');
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw new InputError(`invalid digest in image reference "${input}" (expected sha256:<64 hex>)`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InputError(`invalid tag "${tag}" in image reference "${input}"`);
  }
  let domain = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      domain = first;
      repository = rest.slice(slash + 1);
    }
  }
  if (domain === 'index.docker.io') domain = DOCKER_HUB;
  if (domain === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (!repository || !repository.split('/').every((c) => REPO_COMPONENT.test(c))) {
    throw new InputError(`invalid repository name "${repository}" in image reference "${input}" (lower-case letters, digits, separators)`);
  }
  if (!tag && !digest) tag = 'latest';
  const registry = domain === DOCKER_HUB ? DOCKER_HUB_API : domain;
  return { domain, registry, repository, tag, digest };
}

export function formatRegistryReference(r: RegistryReference): string {
  return `${r.domain}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** Hosts that are plain http by default (like docker's localhost exception). */
export function isLoopbackHost(hostPort: string): boolean {
  const host = hostPort.startsWith('[') ? hostPort.slice(1, hostPort.indexOf(']')) : hostPort.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * `PATH[:name]`: the whole string when it exists on disk, else the longest prefix before a colon
 * that exists (names may hold colons themselves: `docker-archive:f.tar:repo:tag`).
 */
function pathAndName(s: string): { path: string; name?: string } {
  if (existsSync(s)) return { path: s };
  for (let i = s.lastIndexOf(':'); i > 0; i = s.lastIndexOf(':', i - 1)) {
    if (existsSync(s.slice(0, i))) return { path: s.slice(0, i), name: s.slice(i + 1) || undefined };
  }
  const first = s.indexOf(':');
  return first > 0 ? { path: s.slice(0, first), name: s.slice(first + 1) || undefined } : { path: s };
}

/**
 * Reads the transport prefix of what the user typed:
 * `oci:DIR[:name]`, `oci-archive:FILE[:name]`, `docker-archive:FILE[:repo:tag]`,
 * `podman:IMAGE` (also `containers-storage:IMAGE`), `docker:IMAGE` (`docker://` means a registry,
 * as in skopeo), anything else is a registry reference.
 */
export function parseImageSource(input: string): ImageSourceSpec {
  const m = /^(oci|oci-archive|docker-archive|podman|containers-storage|docker-daemon|docker):(?!\/\/)(.*)$/.exec(input);
  if (!m) return { kind: 'registry', ref: parseRegistryReference(input) };
  const [, prefix, rest] = m;
  if (!rest) throw new InputError(`"${input}": nothing after "${prefix}:"`);
  switch (prefix) {
    case 'oci':
      return { kind: 'oci-dir', ...pathAndName(rest) };
    case 'oci-archive':
      return { kind: 'oci-archive', ...pathAndName(rest) };
    case 'docker-archive':
      return { kind: 'docker-archive', ...pathAndName(rest) };
    case 'podman':
    case 'containers-storage':
      return { kind: 'engine', engine: 'podman', image: rest };
    default:
      return { kind: 'engine', engine: 'docker', image: rest };
  }
}
