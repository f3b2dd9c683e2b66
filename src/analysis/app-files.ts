import path from 'node:path';
import type { ContainerModel } from '../model/container-model.js';
import type { VirtualFile } from '../model/vfs.js';

export type FileLanguage = 'shell' | 'python' | 'js' | 'nginx' | 'properties' | 'yaml' | 'supervisor' | 'jvm' | 'go' | 'r';

/**
 * Globs of files the build-context rules read. Image sources keep only these in memory.
 * Paths are absolute in the image; `**` crosses directories.
 */
export const APP_FILE_GLOBS = [
  '**/serve',
  '**/*.sh',
  '**/entrypoint*',
  '**/docker-entrypoint*',
  '**/start*',
  '**/*.py',
  '**/*.js',
  '**/*.mjs',
  '**/*.cjs',
  '**/*.ts',
  '**/*.java',
  '**/*.scala',
  '**/*.kt',
  '**/*.go',
  '**/*.R',
  '**/*.r',
  '**/nginx*.conf',
  '**/nginx/**/*.conf',
  '**/*.conf.template',
  '**/*.conf.tmpl',
  '**/conf.d/*.conf',
  '**/config.properties',
  '**/application.properties',
  '**/application.y*ml',
  '**/supervisord.conf',
  '**/supervisor/**/*.conf',
  '**/requirements*.txt',
  '**/setup.py',
  '**/setup.cfg',
  '**/pyproject.toml',
  '**/package.json',
  // CGI handlers (busybox httpd, lighttpd, Apache): findRoutes treats files named ping or
  // invocations under a served root as the routes themselves and reads their #! line.
  '**/{ping,invocations}',
];

/** Where an image keeps the operating system and installed libraries: not the team's server code. */
const SYSTEM_PREFIXES = ['/usr/lib/', '/usr/local/lib/', '/usr/share/', '/usr/include/', '/lib/', '/lib64/', '/proc/', '/sys/', '/var/lib/', '/usr/libexec/', '/opt/conda/lib/', '/root/.cache/'];
const SKIP_SEGMENTS = /\/(site-packages|dist-packages|node_modules|__pycache__|\.git|tests?|testing|docs?|examples?|notebooks?)\//;

/**
 * The files of the model that belong to the application: every build-context file for a
 * Dockerfile, and for an image everything outside system and library directories.
 * Test and documentation folders are left out: their ports never serve traffic.
 */
const appFilesCache = new WeakMap<object, { revision: number; files: VirtualFile[] }>();

export function appFiles(model: ContainerModel): VirtualFile[] {
  // Every file-reading rule asks; an image can hold tens of thousands of files.
  const hit = appFilesCache.get(model.files);
  if (hit && hit.revision === model.files.revision) return hit.files;
  const files = selectAppFiles(model);
  appFilesCache.set(model.files, { revision: model.files.revision, files });
  return files;
}

function selectAppFiles(model: ContainerModel): VirtualFile[] {
  return model.files.all().filter((f) => {
    if (f.type !== 'file') return false;
    if (f.origin.kind === 'layer' && SYSTEM_PREFIXES.some((p) => f.path.startsWith(p)) && !isServerConfig(f.path)) return false;
    // Below a JVM source root, folders are package names (`com/example/`), not docs or examples.
    if (SKIP_SEGMENTS.test(f.path.replace(/(\/src\/main\/(?:java|scala|kotlin)\/).*$/, '$1'))) return false;
    if (/(^|\/)(test_[^/]*|[^/]*_test)\.py$/.test(f.path)) return false;
    return languageOf(f) !== undefined || isManifest(f.path);
  });
}

function isServerConfig(p: string): boolean {
  return /^\/etc\/(nginx|supervisor)/.test(p);
}

export function isManifest(p: string): boolean {
  return /(^|\/)(requirements[^/]*\.txt|setup\.py|setup\.cfg|pyproject\.toml|package\.json)$/.test(p);
}

/** Language of a file by name, then by shebang for extension-less scripts such as `serve`. */
export function languageOf(f: VirtualFile, text?: string): FileLanguage | undefined {
  const base = path.posix.basename(f.path);
  if (/nginx.*\.conf(\.template|\.tmpl)?$|\.conf\.(template|tmpl)$/.test(base) || /\/nginx\/|\/conf\.d\//.test(f.path)) return 'nginx';
  if (/^supervisord\.conf$/.test(base) || /\/supervisor\//.test(f.path)) return 'supervisor';
  if (/\.(properties)$/.test(base)) return 'properties';
  if (/^application\.ya?ml$/.test(base)) return 'yaml';
  if (/\.py$/.test(base)) return 'python';
  if (/\.(m|c)?js$|\.ts$/.test(base)) return 'js';
  if (/\.(sh|bash)$/.test(base)) return 'shell';
  if (/\.(java|scala|kt)$/.test(base)) return 'jvm';
  if (/\.go$/.test(base) && !/_test\.go$/.test(base)) return 'go';
  if (/\.[Rr]$/.test(base)) return 'r';
  if (base === 'setup.py') return 'python';
  if (!base.includes('.')) {
    const head = text ?? f.text()?.slice(0, 200);
    if (head === undefined) return base === 'serve' ? 'shell' : undefined;
    if (/^#!.*\bpython/.test(head)) return 'python';
    if (/^#!.*\bnode/.test(head)) return 'js';
    if (/^#!.*\bRscript\b/.test(head)) return 'r';
    if (/^#!.*\b(sh|bash|dash|ash|busybox)\b/.test(head) || base === 'serve' || /entrypoint|^start/.test(base)) return 'shell';
  }
  return undefined;
}
