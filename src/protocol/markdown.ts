/**
 * The generated parts of docs/protocol.md: the error-code and close-code tables, printed from
 * the tables the gateway sends its texts from (scripts/update-protocol-doc.mjs writes them;
 * test/unit/protocol-doc.test.ts fails when the document is stale).
 */
import { CLOSE_CODES } from './constants.js';
import { CLOSE_REASONS, ERRORS, type ErrorEntry } from './errors.js';

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function shownText(entry: ErrorEntry): string {
  return entry.docText ?? `\`${entry.text}\``;
}

export function errorCodesMarkdown(): string {
  const rows = Object.entries(ERRORS).map(([code, entry]: [string, ErrorEntry]) => {
    const closes = entry.closes ? `${entry.closes.code}, ${entry.closes.when}` : '—';
    return `| \`${code}\` | ${cell(shownText(entry))} | ${cell(entry.when)} | ${cell(closes)} |`;
  });
  return ['| Code | Text sent in `message` | When | Closes the connection |', '|---|---|---|---|', ...rows].join('\n');
}

export function closeCodesMarkdown(): string {
  const rows = Object.entries(CLOSE_CODES).map(([name, code]) => `| ${code} | \`${name}\` | ${cell(CLOSE_REASONS[code])} |`);
  return ['| Close code | Name | When |', '|---|---|---|', ...rows].join('\n');
}

/** Marker name → generated block, for every generated block of the document. */
export const PROTOCOL_DOC_BLOCKS: Record<string, () => string> = {
  'error-codes': errorCodesMarkdown,
  'close-codes': closeCodesMarkdown,
};
