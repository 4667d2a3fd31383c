/**
 * The BI contract as README.md documents it (the output-tables section, checked against the built views by
 * test/bi-contract.test.ts): view → columns (name, GoogleSQL type) in order.
 */
import assert from "node:assert/strict";

export const START = "<!-- output-tables:start -->";
export const END = "<!-- output-tables:end -->";
export interface ViewColumns { name: string; type: string }

/** The documented tables in README's output-tables section: view → columns (name, type) in order. */
export function parseReadmeContract(readme: string): Map<string, ViewColumns[]> {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  assert.ok(start >= 0 && end > start, `README.md needs ${START} … ${END}`);
  const section = readme.slice(start, end);
  const out = new Map<string, ViewColumns[]>();
  let current: ViewColumns[] | undefined;
  for (const line of section.split("\n")) {
    const heading = /^###\s+`([^`]+)`/.exec(line);
    if (heading) {
      current = [];
      // A view documented twice (e.g. by a merge) would let a stale copy pass unseen.
      assert.ok(!out.has(heading[1]!), `README.md documents ${heading[1]} twice in the output-tables section`);
      out.set(heading[1]!, current);
      continue;
    }
    const row = /^\|\s*`([^`]+)`\s*\|\s*([A-Z0-9_<>, ]+?)\s*\|/.exec(line);
    if (row && current) current.push({ name: row[1]!, type: row[2]! });
  }
  return out;
}

