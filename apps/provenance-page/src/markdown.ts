/**
 * Escaping for the Markdown page. The output is read by CommonMark/GFM
 * renderers (Hugo's Goldmark) and by MDX (Docusaurus), which also treats
 * `{`, `}` and `<` as syntax, so data is escaped for the strictest of them.
 */

// ASCII punctuation that starts or ends Markdown/MDX syntax. Backslash-escaping
// any ASCII punctuation is valid CommonMark, so over-escaping is harmless.
const MD_PUNCT = /[\\`*_{}[\]()#+\-.!|~=$^]/g;

/** Inline text: HTML metacharacters as entities, Markdown syntax escaped, one line. */
export function mdText(value: string): string {
  return value
    .replace(/\r\n?|\n|\u2028|\u2029/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(MD_PUNCT, '\\$&');
}

/** A link destination: characters that could end it or start syntax are percent-encoded. */
export function mdDestination(href: string): string {
  return href.replace(/[\s()<>\\"'`{}|^[\]]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** A fenced code block whose fence is longer than any backtick run in the text. */
export function mdCodeBlock(value: string, info = 'sh'): string {
  const longest = Math.max(0, ...[...value.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${value}\n${fence}`;
}

/** A YAML scalar for front matter: JSON strings are valid YAML double-quoted scalars. */
export function yamlScalar(value: string): string {
  return JSON.stringify(value);
}
