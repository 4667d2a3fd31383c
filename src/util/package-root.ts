/**
 * The folder funnelcredit is installed in (the one holding its package.json), found from this
 * file's location. The same code runs as TypeScript from src/ (tsx, tests) and compiled from
 * dist/src/ (the CLI), so files shipped beside the code (sql/, node_modules/) are found from here,
 * never by counting "../" from a source file.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "funnelcredit") return (root = dir);
    if (path.dirname(dir) === dir) throw new Error(`cannot find funnelcredit's package.json above ${fileURLToPath(import.meta.url)}`);
  }
}
