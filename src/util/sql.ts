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
