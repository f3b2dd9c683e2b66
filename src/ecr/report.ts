/**
 * Output of `smcl ecr`. stylish: grouped by repository, one block per image (tags, digest,
 * pushed-at, findings or why it failed/was skipped) and the scan summary; json: the usual
 * `{tool, version, summary, results}` with repository/tags/digest/pushedAt per result and a
 * `scan` section; markdown, sarif, github: the shared reporters plus the failures and summary.
 */
import { SEVERITY_RANK, type RuleMeta, type Severity } from '../engine/types.js';
import { formatLocation } from '../model/location.js';
import { reporterFor, type LintResult } from '../report/index.js';
import { countBySeverity } from '../report/types.js';
import { escapeData } from '../report/github.js';
import { SKIP_REASON_TEXT, type EcrImageResult, type EcrScanReport, type SkipReason } from './scan.js';

export interface EcrReportOptions {
  format: string;
  color: boolean;
  rules: RuleMeta[];
  toolVersion: string;
  /** Findings below this are left out (`--quiet`). */
  minSeverity?: Severity;
}

/** The subject of an image's findings in the shared reporters: the ref with its tags. */
export function subjectOf(r: EcrImageResult): string {
  return r.tags.length ? `${r.ref} (tags: ${r.tags.join(', ')})` : r.ref;
}

export function toLintResults(report: EcrScanReport): LintResult[] {
  return report.images.filter((r) => r.status === 'scanned').map((r) => ({ subject: subjectOf(r), findings: r.findings, sourceTexts: new Map() }));
}

/** `12 images scanned (20 tags), 1 failed, 3 skipped (2 pushed before --pushed-since, 1 in another --shard); 1 repository unreadable` */
export function summaryLine(report: EcrScanReport): string {
  const c = report.counts;
  const scannedTags = report.images.filter((r) => r.status === 'scanned').reduce((n, r) => n + r.tags.length, 0);
  const reasons = (Object.entries(report.skippedBy) as Array<[SkipReason, number]>).map(([k, n]) => `${n} ${SKIP_REASON_TEXT[k]}`);
  const parts = [
    `${c.scanned} ${c.scanned === 1 ? 'image' : 'images'} scanned (${scannedTags} ${scannedTags === 1 ? 'tag' : 'tags'}${c.linted < c.scanned ? `, ${c.scanned - c.linted} reused from the same digest in another repository` : ''})`,
    `${c.failed} failed`,
    `${c.skipped} skipped${reasons.length ? ` (${reasons.join(', ')})` : ''}`,
  ];
  const repos = `${report.repositories.length} ${report.repositories.length === 1 ? 'repository' : 'repositories'}${c.repositoriesFailed ? `, ${c.repositoriesFailed} unreadable` : ''}`;
  return `ECR ${report.registry} (${report.mode}): ${repos}; ${parts.join(', ')}`;
}

function filtered(report: EcrScanReport, min?: Severity): EcrScanReport {
  if (!min) return report;
  return { ...report, images: report.images.map((r) => ({ ...r, findings: r.findings.filter((f) => SEVERITY_RANK[f.severity] >= SEVERITY_RANK[min]) })) };
}

export function formatEcrReport(input: EcrScanReport, opts: EcrReportOptions): string {
  const report = filtered(input, opts.minSeverity);
  switch (opts.format) {
    case 'stylish':
      return stylish(report, opts.color);
    case 'json':
      return json(report, opts.toolVersion);
    case 'markdown':
      return markdown(report, opts);
    case 'sarif':
      return sarif(report, opts);
    case 'github':
      return github(report, opts);
    default:
      return reporterFor(opts.format)(toLintResults(report), { color: opts.color, rules: opts.rules, toolVersion: opts.toolVersion });
  }
}

const COLORS = { red: 31, yellow: 33, blue: 34, dim: 2, bold: 1, green: 32, cyan: 36 } as const;

function stylish(report: EcrScanReport, color: boolean): string {
  const paint = (c: keyof typeof COLORS, s: string): string => (color ? `\u001b[${COLORS[c]}m${s}\u001b[0m` : s);
  const sev: Record<Severity, keyof typeof COLORS> = { error: 'red', warning: 'yellow', info: 'blue' };
  const out: string[] = [];
  for (const repo of report.repositories) {
    const imgs = report.images.filter((r) => r.repository === repo.name);
    const shown = imgs.filter((r) => r.status !== 'skipped' || r.reason === 'not-found' || r.reason === 'unsupported');
    out.push(paint('bold', `${report.registry}/${repo.name}`) + paint('dim', ` (${repo.images} ${repo.images === 1 ? 'image' : 'images'})`));
    if (repo.status === 'failed') {
      out.push(`  ${paint('red', '✖ not scanned')}: ${repo.error}`, '');
      continue;
    }
    for (const r of shown) {
      const head = `  ${r.tags.length ? r.tags.join(', ') : '<untagged>'} ${paint('dim', `${r.digest.slice(0, 19)}${r.pushedAt ? ` pushed ${r.pushedAt}` : ''}`)}`;
      if (r.status === 'failed') out.push(`${head} ${paint('red', '✖ failed')}: ${r.message}`);
      else if (r.status === 'skipped') out.push(`${head} ${paint('yellow', '– skipped')}: ${r.message}`);
      else if (!r.findings.length) out.push(`${head} ${paint('green', '✔')}`);
      else {
        out.push(`${head} ${paint(r.findings.some((f) => f.severity === 'error') ? 'red' : 'yellow', `✖ ${r.findings.length} ${r.findings.length === 1 ? 'problem' : 'problems'}`)}${r.sameAs ? paint('dim', ` (same digest as ${r.sameAs})`) : ''}`);
        for (const f of r.findings) {
          out.push(`    ${paint(sev[f.severity], f.severity)} ${paint('dim', f.ruleId)} ${f.message}`);
          out.push(`      ${paint('dim', `at ${formatLocation(f.location).replace(`${r.ref}//`, '/')}`)}`);
          if (f.help) out.push(`      ${paint('cyan', 'help')}: ${f.help}`);
          out.push(`      ${paint('dim', `docs: ${f.docsUrl}`)}`);
        }
      }
    }
    const quiet = imgs.length - shown.length;
    if (quiet) out.push(paint('dim', `  ${quiet} skipped by the filters`));
    if (!imgs.length) out.push(paint('dim', '  no images'));
    out.push('');
  }
  const c = countBySeverity(toLintResults(report));
  const withFindings = report.images.filter((r) => r.status === 'scanned' && r.findings.length).length;
  out.push(summaryLine(report));
  out.push(
    c.total === 0
      ? paint('bold', `✔ no problems in ${report.counts.scanned} ${report.counts.scanned === 1 ? 'image' : 'images'}`)
      : paint(c.error ? 'red' : c.warning ? 'yellow' : 'blue', `✖ ${c.total} ${c.total === 1 ? 'problem' : 'problems'} (${c.error} ${c.error === 1 ? 'error' : 'errors'}, ${c.warning} ${c.warning === 1 ? 'warning' : 'warnings'}, ${c.info} info) in ${withFindings} of ${report.counts.scanned} images`),
  );
  return out.join('\n') + '\n';
}

function json(report: EcrScanReport, toolVersion: string): string {
  const scanned = report.images.filter((r) => r.status === 'scanned');
  return (
    JSON.stringify(
      {
        tool: 'sagemaker-container-lint',
        version: toolVersion,
        summary: countBySeverity(toLintResults(report)),
        results: scanned.map((r) => ({ subject: r.ref, repository: r.repository, tags: r.tags, digest: r.digest, pushedAt: r.pushedAt ?? null, ...(r.sameAs ? { sameAs: r.sameAs } : {}), findings: r.findings })),
        scan: {
          registry: report.registry,
          registryId: report.registryId ?? null,
          mode: report.mode,
          counts: report.counts,
          skippedBy: report.skippedBy,
          repositories: report.repositories,
          failed: report.images.filter((r) => r.status === 'failed').map(brief),
          skipped: report.images.filter((r) => r.status === 'skipped').map(brief),
          summary: summaryLine(report),
        },
      },
      null,
      2,
    ) + '\n'
  );
}

function brief(r: EcrImageResult) {
  return { subject: r.ref, repository: r.repository, tags: r.tags, digest: r.digest, pushedAt: r.pushedAt ?? null, ...(r.reason ? { reason: r.reason } : {}), ...(r.message ? { message: r.message } : {}) };
}

function problems(report: EcrScanReport): Array<{ what: string; message: string; level: 'error' | 'warning' }> {
  const out: Array<{ what: string; message: string; level: 'error' | 'warning' }> = [];
  for (const repo of report.repositories) if (repo.status === 'failed') out.push({ what: `${report.registry}/${repo.name}`, message: `repository not scanned: ${repo.error}`, level: 'error' });
  for (const r of report.images) {
    if (r.status === 'failed') out.push({ what: subjectOf(r), message: `failed: ${r.message}`, level: 'error' });
    else if (r.status === 'skipped' && r.message) out.push({ what: subjectOf(r), message: `skipped: ${r.message}`, level: 'warning' });
  }
  return out;
}

function markdown(report: EcrScanReport, opts: EcrReportOptions): string {
  const base = reporterFor('markdown')(toLintResults(report), { color: false, rules: opts.rules, toolVersion: opts.toolVersion }).trimEnd().split('\n');
  // The shared reporter ends with the tool line; put the ECR section before it.
  const footer = base[base.length - 1]?.startsWith('<sub>') ? base.pop()! : undefined;
  const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  const out = [...base, '', '### ECR scan', '', cell(summaryLine(report))];
  const p = problems(report);
  if (p.length) {
    out.push('', '| | image or repository | problem |', '| --- | --- | --- |');
    for (const x of p) out.push(`| ${x.level === 'error' ? '❌' : '⚠️'} | \`${cell(x.what)}\` | ${cell(x.message)} |`);
  }
  if (footer) out.push('', footer);
  return out.join('\n') + '\n';
}

function sarif(report: EcrScanReport, opts: EcrReportOptions): string {
  const doc = JSON.parse(reporterFor('sarif')(toLintResults(report), { color: false, rules: opts.rules, toolVersion: opts.toolVersion })) as { runs: Array<Record<string, unknown>> };
  doc.runs[0].invocations = [
    {
      executionSuccessful: report.counts.scanned > 0 || (report.counts.failed === 0 && report.counts.repositoriesFailed === 0),
      toolExecutionNotifications: problems(report).map((x) => ({ level: x.level, message: { text: `${x.what}: ${x.message}` } })),
    },
  ];
  doc.runs[0].properties = { ecr: { registry: report.registry, mode: report.mode, counts: report.counts, skippedBy: report.skippedBy } };
  return JSON.stringify(doc, null, 2) + '\n';
}

function github(report: EcrScanReport, opts: EcrReportOptions): string {
  const base = reporterFor('github')(toLintResults(report), { color: false, rules: opts.rules, toolVersion: opts.toolVersion }).trimEnd().split('\n');
  const last = base.pop();
  for (const x of problems(report)) base.push(`::${x.level} title=smcl ecr::${escapeData(`${x.what}: ${x.message}`)}`);
  base.push(summaryLine(report));
  if (last) base.push(last);
  return base.join('\n') + '\n';
}
