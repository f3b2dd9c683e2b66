import { defineRule, docsUrl } from '../../src/engine/types.js';

const ID = 'incomplete-input';

/**
 * Never a silent pass: when the source could not see part of the image (a COPY source missing
 * from the build context, a file built by an earlier RUN, a remote ADD, an image too big to read),
 * the verdicts of the rules that read files are incomplete. Each gap is one info finding.
 */
export default defineRule({
  meta: {
    id: ID,
    target: 'container',
    defaultSeverity: 'info',
    description: 'Files the rules would read are missing from what smcl could see (build context, remote sources, caps); verdicts that depend on them stay open.',
    docsUrl: docsUrl(ID),
  },
  check({ model, report }) {
    for (const gap of model.gaps) {
      report({
        severity: 'info',
        message: `${gap.message}; bind-to-port-env, second-port-safe-range, ping-invocations-handlers and serve-entrypoint did not see it, so their verdicts may be incomplete`,
        location: gap.location,
        help: 'lint with the real build context (--context DIR), or lint the built image with `smcl image`',
      });
    }
  },
});
