import fs from 'node:fs';
import type { CommandModule } from 'yargs';
import { ruleMetas, wantedFileGlobs } from '../../../rules/index.js';
import { InputError } from '../../engine/types.js';
import { lintModel } from '../../lint/lint-dockerfiles.js';
import type { LintResult } from '../../report/types.js';
import { emitResults, handler, note, resolveConfig, statusLine, withOutputOptions, type OutputArgs } from '../common.js';

interface ImageArgs extends OutputArgs {
  refs: string[];
  platform?: string;
  'labels-only': boolean;
  username?: string;
  'password-stdin': boolean;
  insecure?: boolean;
  engine?: string;
  'instance-type'?: string;
}

export const imageCommand: CommandModule<object, ImageArgs> = {
  command: 'image <refs..>',
  describe: 'Lint built images: registry refs, oci:DIR, oci-archive:FILE, docker-archive:FILE, podman:IMG, docker:IMG',
  builder: (y) =>
    withOutputOptions(y)
      .positional('refs', { type: 'string', array: true, demandOption: true, describe: 'image references' })
      .option('platform', { type: 'string', describe: 'os/arch[/variant] to pick from a multi-platform index (default linux/amd64)' })
      .option('labels-only', { type: 'boolean', default: false, describe: 'fetch only manifest and config (fast; rules that read files are skipped)' })
      .option('username', { type: 'string', describe: 'registry user (default: credentials from ~/.docker/config.json, $REGISTRY_AUTH_FILE, podman auth.json)' })
      .option('password-stdin', { type: 'boolean', default: false, describe: 'read the registry password from stdin' })
      // No default: undefined lets loopback registries use plain http; --no-insecure forces https.
      .option('insecure', { type: 'boolean', describe: 'plain http to the registry (automatic for localhost, 127.x and ::1; --no-insecure forces https)' })
      .option('engine', { type: 'string', describe: 'podman or docker binary for podman:/docker: refs' })
      .option('instance-type', { type: 'string', describe: 'instance type the image will run on (checks the architecture: ml.*g Graviton types are arm64)' })
      .example('smcl image 123456789012.dkr.ecr.us-east-1.amazonaws.com/model:1.4', 'pull config and layers from a registry and lint')
      .example('smcl image podman:localhost/model:dev', 'lint an image from the local podman store')
      .example('smcl image oci-archive:model.tar --instance-type ml.c6g.xlarge', 'lint a saved image for a Graviton instance') as never,
  handler: handler(async (argv: ImageArgs) => {
    const metas = ruleMetas();
    const config = resolveConfig(argv, undefined, metas);
    if (argv['instance-type']) {
      config.options = { ...config.options, 'image-architecture': { ...(config.options?.['image-architecture'] ?? {}), instanceType: argv['instance-type'] } };
    }
    let password: string | undefined;
    if (argv['password-stdin']) {
      password = fs.readFileSync(0, 'utf8').replace(/\r?\n$/, '');
      if (!argv.username) throw new InputError('--password-stdin needs --username');
    }
    const { loadImage } = await import('../../sources/image/index.js');
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const results: LintResult[] = [];
    const progress = statusLine(argv);
    try {
      for (const ref of argv.refs) {
        note(argv, `reading ${ref}${argv['labels-only'] ? ' (labels only)' : ''}`);
        const model = await loadImage(ref, {
          wantedGlobs: wantedFileGlobs(),
          platform: argv.platform,
          labelsOnly: argv['labels-only'],
          username: argv.username,
          password,
          insecure: argv.insecure,
          engine: argv.engine,
          signal: controller.signal,
          onProgress: (e) => {
            if (e.phase === 'layer') progress(`${ref}: layer ${e.index + 1}/${e.count} ${e.state === 'start' ? 'reading' : 'done'}${e.size ? ` (${(e.size / 1048576).toFixed(1)} MiB)` : ''}`);
          },
        });
        progress.done();
        if (argv['labels-only']) model.filesUnknown = true;
        results.push(lintModel(model, config));
      }
    } catch (err) {
      progress.done();
      if (controller.signal.aborted) throw new InputError('interrupted; nothing was written');
      throw err;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    return emitResults(results, argv, metas, config);
  }),
};
