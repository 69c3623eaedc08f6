/**
 * `uniqueItems` in one pass instead of ajv's comparison of every pair of
 * items (O(n^2): seconds on a few thousand components).
 *
 * Two JSON values are deep-equal exactly when their canonical texts (object
 * keys sorted, no whitespace) are equal. Writing every component out in full is
 * itself most of the cost, so items are first grouped by an outline (the
 * canonical text of their top level, nested values reduced to their kind):
 * deep-equal items have equal outlines, so only items sharing an outline are
 * written out and compared in full.
 */

/** Canonical JSON: object keys sorted, no whitespace. */
export function canonicalJson(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  let text: string;
  if (Array.isArray(value)) {
    text = '[';
    for (let i = 0; i < value.length; i++) text += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${text}]`;
  }
  const keys = Object.keys(value).sort();
  text = '{';
  for (let i = 0; i < keys.length; i++) {
    text += `${i === 0 ? '' : ','}${JSON.stringify(keys[i])}:${canonicalJson((value as Record<string, unknown>)[keys[i]!])}`;
  }
  return `${text}}`;
}

/** The canonical text of the top level of `value`, with nested objects reduced to `{` and arrays to `[` and their length. */
function outline(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.length}`;
  const keys = Object.keys(value).sort();
  let text = '{';
  for (const key of keys) {
    const v = (value as Record<string, unknown>)[key];
    text += `${JSON.stringify(key)}:${typeof v !== 'object' || v === null ? JSON.stringify(v) : Array.isArray(v) ? `[${v.length}` : '{'},`;
  }
  return text;
}

/**
 * The first item equal to an earlier one: its index `i` and the index `j` of
 * that earlier item; undefined when all items differ.
 */
export function firstDuplicate(items: unknown[]): { i: number; j: number } | undefined {
  if (items.length < 2) return undefined;
  const groups = new Map<string, number[]>();
  const canonical: string[] = [];
  const canonicalAt = (k: number): string => (canonical[k] ??= canonicalJson(items[k]));
  for (let i = 0; i < items.length; i++) {
    const key = outline(items[i]);
    const group = groups.get(key);
    if (group === undefined) {
      groups.set(key, [i]);
      continue;
    }
    // Earlier members of a group all differ from each other, so at most one can match.
    for (const j of group) if (canonicalAt(j) === canonicalAt(i)) return { i, j };
    group.push(i);
  }
  return undefined;
}
