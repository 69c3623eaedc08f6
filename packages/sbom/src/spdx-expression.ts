/**
 * A small SPDX licence expression parser: enough to tell a valid expression
 * from a free-text licence name and to spell it canonically (known ids in their
 * SPDX casing, operators upper case, parentheses only where precedence needs them).
 */
import { SPDX } from '@cyclonedx/cyclonedx-library';

type Node =
  | { kind: 'licence'; id: string; orLater: boolean; exception?: string }
  | { kind: 'and' | 'or'; terms: Node[] };

const TOKEN = /\s*(\(|\)|[A-Za-z0-9.\-+:]+)\s*/y;

function tokenize(text: string): string[] | undefined {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const m = TOKEN.exec(text);
    if (!m) return undefined;
    tokens.push(m[1]!);
  }
  return tokens;
}

const USER_REF = /^(DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$/;

function licenceId(token: string): { id: string; orLater: boolean } | undefined {
  if (USER_REF.test(token)) return { id: token, orLater: false };
  const orLater = token.endsWith('+');
  const id = SPDX.fixupSpdxId(orLater ? token.slice(0, -1) : token);
  return id === undefined ? undefined : { id, orLater };
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: string[]) {}

  parse(): Node | undefined {
    const node = this.or();
    return node && this.pos === this.tokens.length ? node : undefined;
  }

  private peekOperator(op: string): boolean {
    const t = this.tokens[this.pos];
    return t !== undefined && (t === op || t === op.toLowerCase());
  }

  private or(): Node | undefined {
    return this.binary('OR', () => this.and());
  }

  private and(): Node | undefined {
    return this.binary('AND', () => this.atom());
  }

  private binary(op: 'AND' | 'OR', next: () => Node | undefined): Node | undefined {
    const first = next();
    if (!first) return undefined;
    const terms = [first];
    while (this.peekOperator(op)) {
      this.pos++;
      const term = next();
      if (!term) return undefined;
      terms.push(term);
    }
    return terms.length === 1 ? first : { kind: op === 'AND' ? 'and' : 'or', terms };
  }

  private atom(): Node | undefined {
    const t = this.tokens[this.pos];
    if (t === undefined) return undefined;
    if (t === '(') {
      this.pos++;
      const inner = this.or();
      if (!inner || this.tokens[this.pos] !== ')') return undefined;
      this.pos++;
      return inner;
    }
    const licence = licenceId(t);
    if (!licence) return undefined;
    this.pos++;
    if (this.peekOperator('WITH')) {
      this.pos++;
      const exception = this.tokens[this.pos] === undefined ? undefined : SPDX.fixupSpdxId(this.tokens[this.pos]);
      if (!exception) return undefined;
      this.pos++;
      return { kind: 'licence', ...licence, exception };
    }
    return { kind: 'licence', ...licence };
  }
}

function render(node: Node, parent?: 'and' | 'or'): string {
  if (node.kind === 'licence') {
    return `${node.id}${node.orLater ? '+' : ''}${node.exception ? ` WITH ${node.exception}` : ''}`;
  }
  const text = node.terms.map((t) => render(t, node.kind)).join(node.kind === 'and' ? ' AND ' : ' OR ');
  // AND binds tighter than OR: only an OR inside an AND needs parentheses.
  return parent === 'and' && node.kind === 'or' ? `(${text})` : text;
}

export type SpdxLicence =
  | { kind: 'id'; id: string } // a single known SPDX licence id
  | { kind: 'expression'; expression: string }; // anything compound: AND, OR, WITH, `+`, LicenseRef-

/** Parses `text` as an SPDX expression; undefined when it is not one (e.g. a free-text name). */
export function parseSpdxExpression(text: string): SpdxLicence | undefined {
  const tokens = tokenize(text.trim());
  if (!tokens || tokens.length === 0) return undefined;
  const node = new Parser(tokens).parse();
  if (!node) return undefined;
  if (node.kind === 'licence' && !node.orLater && !node.exception && SPDX.isSupportedSpdxId(node.id)) {
    return { kind: 'id', id: node.id };
  }
  return { kind: 'expression', expression: render(node) };
}

/** Joins licences that all apply into one expression, parenthesising compound terms. */
export function conjunction(terms: SpdxLicence[]): SpdxLicence {
  const texts = terms.map((t) => (t.kind === 'id' ? t.id : t.expression));
  const unique = [...new Set(texts)];
  if (unique.length === 1) return terms[texts.indexOf(unique[0]!)]!;
  const joined = unique.join(' AND ');
  // Re-parse so an OR term gets its parentheses and the spelling stays canonical.
  const wrapped = unique.map((t) => (parseSpdxExpression(t)?.kind === 'expression' && / OR /.test(t) ? `(${t})` : t));
  return parseSpdxExpression(wrapped.join(' AND ')) ?? { kind: 'expression', expression: joined };
}
