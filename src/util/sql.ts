/**
 * The one SQL-quoting helper. Settings and user values never reach SQL any other way.
 */

/** A GoogleSQL string literal: 'it\'s'. Backslashes and quotes are escaped; newlines too. */
export function sqlString(value: string): string {
  return (
    "'" +
    value
      .replace(/\\/g, "\\\\")
      .replace(/'/g, "\\'")
      .replace(/\n/g, "\\n")
      .replace(/\r/g, "\\r") +
    "'"
  );
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A backtick-quoted GoogleSQL identifier; refuses anything that is not a plain name. */
export function sqlIdent(name: string): string {
  if (!IDENT.test(name)) throw new Error(`not a valid identifier: ${JSON.stringify(name)}`);
  return "`" + name + "`";
}

export function isIdentifier(name: string): boolean {
  return IDENT.test(name);
}
