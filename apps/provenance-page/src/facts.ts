/**
 * A fact on the page is either a value (text, maybe a link) or missing with a
 * reason. Every missing fact is also recorded in one list, which the page
 * shows at the top and `--strict` turns into an error.
 */

export interface Fact {
  text?: string;
  /** Set only for http(s) URLs and relative links to the page's own files. */
  href?: string;
  /** Set when the fact is not available; the reason shown after "not available:". */
  missing?: string;
}

export interface MissingFact {
  image?: string;
  fact: string;
  reason: string;
  /** Required facts fail a `--strict` render. */
  required: boolean;
}

export class FactLedger {
  readonly missing: MissingFact[] = [];

  /** Records a missing fact and returns it as a Fact to render. */
  miss(fact: string, reason: string, opts: { image?: string; required: boolean }): Fact {
    const entry: MissingFact = { fact, reason, required: opts.required };
    if (opts.image !== undefined) entry.image = opts.image;
    this.missing.push(entry);
    return { missing: reason };
  }
}

export function text(value: string, href?: string): Fact {
  return href ? { text: value, href } : { text: value };
}
