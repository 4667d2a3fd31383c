/** GoogleSQL script text: statements joined as BigQuery reads one script (pure). */
import { lex } from "./lexer.ts";

/**
 * A statement without its own trailing semicolons; a trailing line comment gets a newline so the
 * joining `;` survives; a part that is only comments (a pre-operation whose DECLARE is compiled out
 * on a full refresh) is empty: `-- note\n;` would be an empty statement, a syntax error in a script.
 */
export function scriptPart(statement: string): string {
  const s = statement.trim().replace(/(\s*;)+$/, "").trimEnd();
  if (s.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(--|#)[^\n]*/g, "").trim() === "") return "";
  const lastLine = s.slice(s.lastIndexOf("\n") + 1);
  return /(--|#)[^'"`]*$/.test(lastLine) ? `${s}\n` : s;
}

/** An action's statements as one script, as BigQuery reads it (a pre-operation's DECLARE is seen by what follows). */
export function scriptOf(statements: string[]): string {
  return statements.map(scriptPart).filter((s) => s.length > 0).join(";\n");
}

/**
 * A `;`-separated script (e.g. one pre-operation block holding a DECLARE and a DELETE) as its statements, split at
 * the semicolons outside brackets (the lexer skips those in strings and comments). A statement of its own each, so
 * what runs a script sees every DECLARE first and every DML statement as one (BigQuery's transaction wraps DML).
 */
export function splitScript(sql: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (const t of lex(sql)) {
    if (t.kind !== "op") continue;
    if (t.text === "(" || t.text === "[") depth++;
    else if (t.text === ")" || t.text === "]") depth--;
    else if (t.text === ";" && depth === 0) {
      out.push(sql.slice(from, t.start));
      from = t.end;
    }
  }
  out.push(sql.slice(from));
  return out.map((s) => s.trim()).filter((s) => scriptPart(s).length > 0);
}
