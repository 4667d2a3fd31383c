/**
 * Copies of the project for tests that change it or build it: the committed files of HEAD (as a
 * fresh clone has them, `git archive`), or only what Dataform compiles. Dependencies are linked
 * from this checkout's node_modules, one package at a time, except @dataform/core, which is copied:
 * Dataform's compile sandbox only loads modules whose real path is inside the project folder (as
 * they are after `npm ci`).
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, realpathSync, symlinkSync } from "node:fs";
import path from "node:path";
import { PROJECT_DIR } from "./warehouse.ts";

/** node_modules in `dest` as `npm ci` leaves it, without installing: links, and a copy of @dataform/core. */
export function linkNodeModules(dest: string): void {
  const from = realpathSync(path.join(PROJECT_DIR, "node_modules"));
  const to = path.join(dest, "node_modules");
  mkdirSync(path.join(to, "@dataform"), { recursive: true });
  for (const name of readdirSync(from)) {
    if (name === "@dataform") continue;
    symlinkSync(realpathSync(path.join(from, name)), path.join(to, name));
  }
  for (const name of readdirSync(path.join(from, "@dataform"))) {
    const src = realpathSync(path.join(from, "@dataform", name));
    if (name === "core") cpSync(src, path.join(to, "@dataform", name), { recursive: true });
    else symlinkSync(src, path.join(to, "@dataform", name));
  }
}

/** What Dataform compiles (definitions/, includes/, workflow_settings.yaml, package.json), with node_modules. */
export function copyCompilableProject(dest: string): void {
  for (const p of ["definitions", "includes", "workflow_settings.yaml", "package.json"]) {
    cpSync(path.join(PROJECT_DIR, p), path.join(dest, p), { recursive: true });
  }
  linkNodeModules(dest);
}

/** The committed tree of HEAD in `dest` (`git archive`): what a fresh clone holds, nothing built. */
export function exportHead(dest: string): void {
  mkdirSync(dest, { recursive: true });
  const tar = execFileSync("git", ["archive", "--format=tar", "HEAD"], { cwd: PROJECT_DIR, maxBuffer: 1 << 30 });
  execFileSync("tar", ["-x", "-C", dest], { input: tar });
  if (existsSync(path.join(dest, "node_modules"))) throw new Error("HEAD holds a node_modules entry: it must not be committed");
}
