/** The configuration table as Markdown, for the README (kept in sync by a test). */
import { describeConfig } from './index.js';

export function configTableMarkdown(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const rows = describeConfig().map((v) => `| \`${v.name}\` | \`${esc(v.default)}\` | ${esc(v.meaning)} |`);
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}
