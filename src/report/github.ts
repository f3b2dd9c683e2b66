import { countBySeverity, type Reporter } from './types.js';

/**
 * GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message`, which GitHub
 * shows as annotations on the pull request's lines. Properties and data are escaped as the
 * runner expects (%, CR, LF; and `:` `,` in properties).
 */
export const github: Reporter = (results) => {
  const out: string[] = [];
  const level = { error: 'error', warning: 'warning', info: 'notice' } as const;
  for (const r of results)
    for (const f of r.findings) {
      const props = [`file=${escapeProperty(f.location.image ? f.subject : f.location.file)}`];
      if (f.location.line !== undefined && !f.location.image) {
        props.push(`line=${f.location.line}`);
        if (f.location.endLine !== undefined) props.push(`endLine=${f.location.endLine}`);
        if (f.location.column !== undefined) props.push(`col=${f.location.column}`);
      }
      props.push(`title=${escapeProperty(`smcl ${f.ruleId}`)}`);
      const message = f.help ? `${f.message}\n${f.help}\n${f.docsUrl}` : `${f.message}\n${f.docsUrl}`;
      out.push(`::${level[f.severity]} ${props.join(',')}::${escapeData(message)}`);
    }
  const c = countBySeverity(results);
  out.push(`smcl: ${c.total} problems (${c.error} errors, ${c.warning} warnings, ${c.info} info) in ${results.length} subjects`);
  return out.join('\n') + '\n';
};

export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
