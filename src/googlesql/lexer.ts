/**
 * An exact GoogleSQL lexer (https://cloud.google.com/bigquery/docs/reference/standard-sql/lexical).
 *
 * Tokens keep their source text and position; whitespace and comments (`#`, `--`, `/* … *\/`) are
 * not tokens but recorded on the next token (`spaceBefore`, `newlineBefore`) so a rewriter can keep
 * the layout. String and identifier values are decoded (escapes, raw and triple-quoted forms).
 *
 * `<` and `>` are always single tokens (besides `<=`, `>=`, `<>`): `ARRAY<STRUCT<a INT64>>` closes
 * two types, and a shift `a >> 2` is two adjacent `>` tokens (`spaceBefore` false on the second).
 */

type TokenKind =
  /** Unquoted identifier or keyword; `value` is the text. */
  | "ident"
  /** Backtick identifier; `value` is the decoded name (may contain dots: `p.d.t`). */
  | "quoted_ident"
  /** String literal; `value` is the decoded text. */
  | "string"
  /** Bytes literal (`b'…'`); `value` holds one char per byte (latin1). */
  | "bytes"
  /** Integer (`42`, `0x2A`) or floating point (`1.5`, `.5`, `1e3`) literal; `value` is the text. */
  | "number"
  /** Query parameter `@name`, system variable `@@name` or positional `?`; `value` is the name. */
  | "param"
  /** Operator or punctuation. */
  | "op"
  | "eof";

export interface Token {
  kind: TokenKind;
  /** Source text of the token. */
  text: string;
  /** Decoded value (see TokenKind). */
  value: string;
  /** Offsets into the source: [start, end). */
  start: number;
  end: number;
  /** 1-based position of the first character. */
  line: number;
  column: number;
  /** Whitespace or a comment precedes the token. */
  spaceBefore: boolean;
  /** A line break (or a line comment) precedes the token. */
  newlineBefore: boolean;
  /** For numbers: true when the literal is a floating point one (has `.` or an exponent). */
  isFloat?: boolean;
  /** For strings and bytes: the raw prefix `r` was used. */
  raw?: boolean;
}

const THREE_CHAR_OPS: string[] = [];
const TWO_CHAR_OPS = ["<=", ">=", "<>", "!=", "||", "=>", "->", "::"];
const ONE_CHAR_OPS = "()[]{},;.+-*/%=<>~^&|:!?";

const isIdentStart = (c: string) => /[A-Za-z_]/.test(c);
const isIdentPart = (c: string) => /[A-Za-z0-9_]/.test(c);
const isDigit = (c: string) => c >= "0" && c <= "9";

/** GoogleSQL's reserved keywords (https://cloud.google.com/bigquery/docs/reference/standard-sql/lexical#reserved_keywords). */
export const GOOGLESQL_RESERVED: ReadonlySet<string> = new Set(
  `ALL AND ANY ARRAY AS ASC ASSERT_ROWS_MODIFIED AT BETWEEN BY CASE CAST COLLATE CONTAINS CREATE CROSS CUBE CURRENT
  DEFAULT DEFINE DESC DISTINCT ELSE END ENUM ESCAPE EXCEPT EXCLUDE EXISTS EXTRACT FALSE FETCH FOLLOWING FOR FROM FULL
  GROUP GROUPING GROUPS HASH HAVING IF IGNORE IN INNER INTERSECT INTERVAL INTO IS JOIN LATERAL LEFT LIKE LIMIT LOOKUP
  MERGE NATURAL NEW NO NOT NULL NULLS OF ON OR ORDER OUTER OVER PARTITION PRECEDING PROTO QUALIFY RANGE RECURSIVE
  RESPECT RIGHT ROLLUP ROWS SELECT SET SOME STRUCT TABLESAMPLE THEN TO TREAT TRUE UNBOUNDED UNION UNNEST USING WHEN
  WHERE WINDOW WITH WITHIN`.split(/\s+/),
);

/** GoogleSQL text that does not lex: an unterminated string, identifier or comment. */
export class GoogleSqlLexError extends Error {
  /** What is unterminated, e.g. "unterminated string literal". */
  readonly construct: string;
  /** 1-based line and column in the text. */
  readonly line: number;
  readonly column: number;
  constructor(construct: string, line: number, column: number) {
    super(`${construct} at ${line}:${column} does not lex as GoogleSQL`);
    this.name = "GoogleSqlLexError";
    this.construct = construct;
    this.line = line;
    this.column = column;
  }
}

/** Tokenize GoogleSQL text. Throws GoogleSqlLexError on an unterminated string, identifier or comment. */
export function lex(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let spaceBefore = false;
  let newlineBefore = false;

  const fail = (what: string, at: number): never => {
    const l = sql.slice(0, at).split("\n").length;
    const c = at - sql.lastIndexOf("\n", at - 1);
    throw new GoogleSqlLexError(what, l, c);
  };
  const advanceLines = (from: number, to: number) => {
    for (let k = from; k < to; k++) {
      if (sql[k] === "\n") {
        line++;
        lineStart = k + 1;
      }
    }
  };
  const push = (kind: TokenKind, start: number, end: number, value: string, extra: Partial<Token> = {}) => {
    tokens.push({
      kind,
      text: sql.slice(start, end),
      value,
      start,
      end,
      line,
      column: start - lineStart + 1,
      spaceBefore,
      newlineBefore,
      ...extra,
    });
    advanceLines(start, end);
    spaceBefore = false;
    newlineBefore = false;
    i = end;
  };

  while (i < sql.length) {
    const c = sql[i];
    const c2 = sql.slice(i, i + 2);

    // Whitespace
    if (/\s/.test(c)) {
      spaceBefore = true;
      if (c === "\n") {
        newlineBefore = true;
        line++;
        lineStart = i + 1;
      }
      i++;
      continue;
    }
    // Comments
    if (c === "#" || c2 === "--") {
      const nl = sql.indexOf("\n", i);
      i = nl === -1 ? sql.length : nl;
      spaceBefore = true;
      continue;
    }
    if (c2 === "/*") {
      const endAt = sql.indexOf("*/", i + 2);
      if (endAt === -1) fail("unterminated /* comment", i);
      advanceLines(i, endAt + 2);
      if (sql.slice(i, endAt).includes("\n")) newlineBefore = true;
      i = endAt + 2;
      spaceBefore = true;
      continue;
    }

    // String and bytes literals, with optional r/b prefixes in either order and case.
    const prefix = /^(?:[rR][bB]?|[bB][rR]?)?(?='|")/.exec(sql.slice(i, i + 3));
    if (prefix && (prefix[0].length > 0 || c === "'" || c === '"')) {
      const p = prefix[0].toLowerCase();
      const raw = p.includes("r");
      const bytes = p.includes("b");
      const start = i;
      let j = i + p.length;
      const q = sql[j];
      const triple = sql.slice(j, j + 3) === q.repeat(3);
      const delim = triple ? q.repeat(3) : q;
      j += delim.length;
      let value = "";
      // Bytes literals hold one char per byte: literal characters contribute their UTF-8 bytes.
      const lit = (ch: string) => (bytes ? Buffer.from(ch, "utf8").toString("latin1") : ch);
      for (;;) {
        if (j >= sql.length) fail("unterminated string literal", start);
        if (sql.startsWith(delim, j)) {
          j += delim.length;
          break;
        }
        const ch = sql[j];
        if (!triple && ch === "\n") fail("string literal with a line break (use ''' or \"\"\")", start);
        if (ch === "\\") {
          if (j + 1 >= sql.length) fail("unterminated string literal", start);
          if (raw) {
            // In raw strings a backslash keeps itself and protects the next character from ending the literal.
            value += lit(ch) + lit(sql[j + 1]);
            j += 2;
            continue;
          }
          const [decoded, len] = decodeEscape(sql, j, bytes, () => fail("invalid escape sequence", j));
          value += decoded;
          j += len;
          continue;
        }
        value += lit(ch);
        j++;
      }
      push(bytes ? "bytes" : "string", start, j, value, { raw });
      continue;
    }

    // Backtick identifiers
    if (c === "`") {
      let j = i + 1;
      let value = "";
      for (;;) {
        if (j >= sql.length || sql[j] === "\n") fail("unterminated `identifier`", i);
        const ch = sql[j];
        if (ch === "`") {
          j++;
          break;
        }
        if (ch === "\\") {
          const [decoded, len] = decodeEscape(sql, j, false, () => fail("invalid escape in `identifier`", j));
          value += decoded;
          j += len;
          continue;
        }
        value += ch;
        j++;
      }
      if (value === "") fail("empty `` identifier", i);
      push("quoted_ident", i, j, value);
      continue;
    }

    // Numbers: 0x1F, 12, 1.5, .5, 1., 1e10, 1.5E-3. A `.` right after a name or `)`/`]` is member access.
    const prev = tokens[tokens.length - 1];
    const afterOperand =
      prev && !spaceBefore && (prev.kind === "ident" || prev.kind === "quoted_ident" || prev.text === ")" || prev.text === "]");
    if (isDigit(c) || (c === "." && isDigit(sql[i + 1] ?? "") && !afterOperand)) {
      const hex = /^0[xX][0-9A-Fa-f]+/.exec(sql.slice(i));
      if (hex) {
        push("number", i, i + hex[0].length, hex[0]);
        continue;
      }
      const m = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(sql.slice(i))!;
      // `t.1` style paths after a dot are not numbers in a path, but GoogleSQL forbids them unquoted anyway.
      const text = m[0];
      push("number", i, i + text.length, text, { isFloat: /[.eE]/.test(text) });
      continue;
    }

    // Identifiers and keywords
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < sql.length && isIdentPart(sql[j])) j++;
      push("ident", i, j, sql.slice(i, j));
      continue;
    }

    // Parameters
    if (c === "@") {
      const m = /^@@?([A-Za-z_][A-Za-z0-9_.]*)/.exec(sql.slice(i));
      if (!m) fail("stray @", i);
      push("param", i, i + m![0].length, m![0].startsWith("@@") ? "@" + m![1] : m![1]);
      continue;
    }

    // Operators
    const three = THREE_CHAR_OPS.find((op) => sql.startsWith(op, i));
    if (three) {
      push("op", i, i + 3, three);
      continue;
    }
    if (TWO_CHAR_OPS.includes(c2)) {
      push("op", i, i + 2, c2);
      continue;
    }
    if (ONE_CHAR_OPS.includes(c)) {
      if (c === "?") push("param", i, i + 1, "?");
      else push("op", i, i + 1, c);
      continue;
    }
    fail(`unexpected character ${JSON.stringify(c)}`, i);
  }
  tokens.push({
    kind: "eof",
    text: "",
    value: "",
    start: sql.length,
    end: sql.length,
    line,
    column: sql.length - lineStart + 1,
    spaceBefore,
    newlineBefore,
  });
  return tokens;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
  "?": "?",
  '"': '"',
  "'": "'",
  "`": "`",
};

/** Decode the escape at sql[j] === "\\": returns [decoded text, length consumed]. */
function decodeEscape(sql: string, j: number, bytes: boolean, fail: () => never): [string, number] {
  const e = sql[j + 1];
  if (e in SIMPLE_ESCAPES) return [SIMPLE_ESCAPES[e], 2];
  if (/[0-7]/.test(e)) {
    const oct = sql.slice(j + 1, j + 4);
    if (!/^[0-7]{3}$/.test(oct)) fail();
    const code = parseInt(oct, 8);
    return [bytes ? String.fromCharCode(code) : String.fromCodePoint(code), 4];
  }
  if (e === "x" || e === "X") {
    const hex = sql.slice(j + 2, j + 4);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) fail();
    return [String.fromCharCode(parseInt(hex, 16)), 4];
  }
  if (e === "u" || e === "U") {
    const n = e === "u" ? 4 : 8;
    const hex = sql.slice(j + 2, j + 2 + n);
    if (!new RegExp(`^[0-9A-Fa-f]{${n}}$`).test(hex)) fail();
    return [String.fromCodePoint(parseInt(hex, 16)), 2 + n];
  }
  return fail();
}
