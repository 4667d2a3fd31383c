/** GoogleSQL script text: statements joined as BigQuery reads one script (pure). */

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
