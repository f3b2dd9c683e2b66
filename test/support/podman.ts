import { execFileSync } from 'node:child_process';

/** Result of probing podman once per test process. */
export interface PodmanStatus {
  ok: boolean;
  /** Why podman cannot be used (empty when ok). */
  reason: string;
}

let cached: PodmanStatus | undefined;

/** Checks (once per process) that `podman info` answers with a usable storage driver. */
export function podmanStatus(): PodmanStatus {
  if (cached) return cached;
  try {
    execFileSync('podman', ['info', '--format', '{{.Store.GraphDriverName}}'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    cached = { ok: true, reason: '' };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    const detail = e.code === 'ENOENT' ? 'podman is not installed' : (e.stderr || e.message).trim().split('\n')[0];
    cached = { ok: false, reason: `podman does not work: ${detail} (run: sudo bash scripts/setup-test-env.sh)` };
  }
  return cached;
}

/**
 * Whether podman-backed tests can run. Under CI (`CI=true`) a missing or broken podman is a
 * failure, never a silent skip: this throws. Elsewhere it prints the reason and returns false,
 * so callers write `describe.skipIf(!requirePodman())(...)`.
 */
export function requirePodman(): boolean {
  const status = podmanStatus();
  if (status.ok) return true;
  if (process.env.CI === 'true') {
    throw new Error(`CI=true and ${status.reason}`);
  }
  console.warn(`[skip] podman tests skipped: ${status.reason}`);
  return false;
}
