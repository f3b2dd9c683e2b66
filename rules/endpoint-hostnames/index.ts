import { defineRule, docsUrl } from '../../src/engine/types.js';
import type { EndpointContainer, EndpointModel } from '../../src/endpoint/model.js';

const ID = 'endpoint-hostnames';
/** The AWS API pattern for ContainerHostname, anchored: 1-63 characters, letters/digits, inner hyphens. */
export const HOSTNAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

export default defineRule<EndpointModel>({
  meta: {
    id: ID,
    target: 'endpoint',
    defaultSeverity: 'error',
    description: 'Every container of a Direct-mode model has a valid ContainerHostname, unique within the model (case-insensitively).',
    docsUrl: docsUrl(ID),
  },
  check({ model, report }) {
    for (const m of model.models) {
      if (m.containersUnknown !== undefined) continue;
      const seen = new Map<string, EndpointContainer>();
      for (const c of m.containers) {
        const h = c.hostname;
        if (!h) {
          if (m.effectiveMode === 'Direct' && !m.primaryContainer) {
            report({
              message: `container #${c.index} of model ${m.name} has no ContainerHostname; with Mode Direct every container needs one (it is the TargetContainerHostname callers use)`,
              location: c.location,
              help: 'Add `ContainerHostname: <name>` to the container.',
            });
          }
          continue;
        }
        if (h.value === undefined) continue; // intrinsic: not known
        if (!HOSTNAME_PATTERN.test(h.value)) {
          report({
            message: `ContainerHostname ${JSON.stringify(h.value)} is invalid: it must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit`,
            location: h.location,
            help: `Use e.g. ${JSON.stringify(suggest(h.value))}.`,
          });
        }
        const key = h.value.toLowerCase();
        const prev = seen.get(key);
        if (prev) {
          const same = prev.hostname!.value === h.value;
          report({
            message: same
              ? `duplicate ContainerHostname ${JSON.stringify(h.value)} in model ${m.name} (also container #${prev.index}, line ${prev.hostname!.location.line ?? '?'})`
              : `ContainerHostname ${JSON.stringify(h.value)} differs from ${JSON.stringify(prev.hostname!.value)} (container #${prev.index}, line ${prev.hostname!.location.line ?? '?'}) only in case; hostnames must be unique ignoring case`,
            location: h.location,
            help: 'Give each container a distinct hostname.',
          });
        } else {
          seen.set(key, c);
        }
      }
    }
  },
});

function suggest(v: string): string {
  const s = v.replace(/[^a-zA-Z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return s.length > 0 ? s : 'container1';
}
