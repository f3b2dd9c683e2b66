import { spawn } from 'node:child_process';
import { CLI, ROOT } from '../support/cli.js';

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** AWS variables of the developer's shell that must not leak into a test run. */
const AWS_VARS = /^AWS_/;

/**
 * Environment for a spawned `smcl ecr`: dummy credentials, a region, the local ECR endpoint,
 * and nothing that could make the SDK look elsewhere (profiles, IMDS, container credentials).
 */
export function awsEnv(endpoint: string | undefined, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!AWS_VARS.test(k)) env[k] = v;
  Object.assign(env, {
    NO_COLOR: '1',
    AWS_ACCESS_KEY_ID: 'AKIDSMCLTEST',
    AWS_SECRET_ACCESS_KEY: 'smcl-test-secret',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/nonexistent/smcl-aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/smcl-aws-credentials',
    ...(endpoint ? { AWS_ENDPOINT_URL_ECR: endpoint } : {}),
  });
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/**
 * Runs the compiled CLI asynchronously (the ECR server lives in this process, so a blocking
 * spawnSync would deadlock it).
 */
export function runSmcl(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`smcl ${args.join(' ')} timed out after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
