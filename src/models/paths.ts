/**
 * Path transforms applied to a customer's channel path before a path model is fitted, as in Google's
 * fractribution (`path_transforms` in its README and `templates/path_transforms.sql`; also Snowplow's
 * dbt-snowplow-fractribution macros `unique_path`, `exposure_path`, `first_path`, `frequency_path`,
 * `remove_if_not_all`, `remove_if_last_and_not_all`, `trim_long_path`).
 *
 * Input and output are arrays of channel ids (strings), oldest touch first. Every function is pure and
 * returns a new array. Worked example (fractribution's), path [D, A, B, B, C, D, C, C]:
 *   unique    → [D, A, B, B, C, D, C, C]
 *   exposure  → [D, A, B, C, D, C]
 *   first     → [D, A, B, C]
 *   frequency → [D(2), A(1), B(2), C(3)]
 */
import { ModelInputError } from "./numeric.ts";

type PathTransform = "unique" | "exposure" | "first" | "frequency";
const PATH_TRANSFORMS: readonly PathTransform[] = ["unique", "exposure", "first", "frequency"];
/** fractribution's default transform. */
const DEFAULT_PATH_TRANSFORM: PathTransform = "exposure";

/** Identity: every touch is kept (fractribution `unique`). O(n). */
export function uniquePath(path: readonly string[]): string[] {
  return path.slice();
}

/**
 * Collapse consecutive repeats of the same channel (fractribution `exposure`; also what
 * ChannelAttribution does before building first-order transitions). O(n). Empty → empty.
 */
export function exposurePath(path: readonly string[]): string[] {
  const out: string[] = [];
  for (const c of path) if (out.length === 0 || out[out.length - 1] !== c) out.push(c);
  return out;
}

/** Keep the first occurrence of each channel, in order of first occurrence (fractribution `first`). O(n). */
export function firstPath(path: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const c of path) {
    if (!seen.has(c)) {
      seen.add(c);
      out.push(c);
    }
  }
  return out;
}

/**
 * One entry per channel in order of first occurrence, suffixed with its number of touches:
 * `C(k)` (fractribution `frequency`). O(n). The suffix makes `A(1)` and `A(2)` distinct ids downstream,
 * which is fractribution's intent (frequency matters).
 */
export function frequencyPath(path: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const c of path) counts.set(c, (counts.get(c) ?? 0) + 1);
  return [...counts].map(([c, k]) => `${c}(${k})`);
}

/** Apply one of the four named transforms. Throws ModelInputError on an unknown name. */
export function transformPath(path: readonly string[], transform: PathTransform = DEFAULT_PATH_TRANSFORM): string[] {
  switch (transform) {
    case "unique":
      return uniquePath(path);
    case "exposure":
      return exposurePath(path);
    case "first":
      return firstPath(path);
    case "frequency":
      return frequencyPath(path);
    default: {
      const never: never = transform;
      throw new ModelInputError(`unknown path transform "${String(never)}"; use one of ${PATH_TRANSFORMS.join(", ")}`);
    }
  }
}

/**
 * Keep only the last `maxTouches` touches (fractribution `path_lookback_steps` / `trim_long_path`):
 * the touches closest to the conversion are the ones kept. `maxTouches` ≤ 0 means no limit. O(n).
 */
export function trimLongPath(path: readonly string[], maxTouches: number): string[] {
  if (!Number.isInteger(maxTouches)) {
    throw new ModelInputError(`trimLongPath: maxTouches must be an integer (got ${maxTouches})`);
  }
  if (maxTouches <= 0 || path.length <= maxTouches) return path.slice();
  return path.slice(path.length - maxTouches);
}

/**
 * Remove every touch of `channel` unless the path consists only of that channel (fractribution
 * `remove_if_not_all`, typically for "Direct"): a direct-only journey keeps its touches so it is not
 * turned into an empty path. O(n).
 */
export function removeIfNotAll(path: readonly string[], channel: string): string[] {
  if (path.length > 0 && path.every((c) => c === channel)) return path.slice();
  return path.filter((c) => c !== channel);
}

/**
 * Remove the trailing run of `channel` touches if it is last, unless the path consists only of it
 * (fractribution `remove_if_last_and_not_all`: "last non-direct" style clean-up). O(n).
 */
export function removeIfLastAndNotAll(path: readonly string[], channel: string): string[] {
  if (path.length === 0 || path[path.length - 1] !== channel) return path.slice();
  if (path.every((c) => c === channel)) return path.slice();
  let end = path.length;
  while (end > 0 && path[end - 1] === channel) end--;
  return path.slice(0, end);
}

/**
 * Split a ChannelAttribution path string (`"eta > iota > alpha"`) into channel ids. Like the package,
 * only the first character of `sep` separates, and surrounding spaces of each token are trimmed; empty
 * tokens are dropped. O(length).
 */
export function parseChannelPath(path: string, sep = ">"): string[] {
  const ch = sep.trim()[0] ?? sep[0];
  if (!ch) throw new ModelInputError(`parseChannelPath: empty separator; use e.g. ">"`);
  const out: string[] = [];
  for (const tok of path.split(ch)) {
    const t = tok.trim();
    if (t.length > 0) out.push(t);
  }
  return out;
}

/**
 * How channel paths carry channel names safely. ChannelAttribution's path format joins channels with
 * `" > "`, so a channel named `Search > Paid`, a utm_source with `>` or GA4's `<Other>` would be split
 * into fake channels. In the paths funnelcredit writes (`channel_paths.path`, `path_features.path`,
 * `ml_journey_features.channel_stats`) every channel name is escaped first: `%` → `%25`, then
 * `>` → `%3E` (URL percent-encoding of just these two characters). Names without `%` and `>` are
 * unchanged, so those paths stay byte-identical to ChannelAttribution's format; every other name
 * round-trips exactly (spaces, quotes, unicode, `=` included). The SQL side is
 * `helpers.pathChannel` / `helpers.pathChannelDecoded` in includes/helpers.js.
 */
export const PATH_SEPARATOR = " > ";

/** Escape one channel name for a path: `%` → `%25`, `>` → `%3E`. O(length). */
export function encodePathChannel(channel: string): string {
  return channel.replace(/%/g, "%25").replace(/>/g, "%3E");
}

/**
 * Undo {@link encodePathChannel}: `%3E` → `>`, then `%25` → `%`. In an encoded name every `%` starts
 * `%25` or `%3E`, so this order never mistakes one for the other. O(length).
 */
export function decodePathChannel(token: string): string {
  // Most names hold no '%' at all: skip the two scans (a million-row path file splits into millions of names).
  if (!token.includes("%")) return token;
  return token.replace(/%3E/g, ">").replace(/%25/g, "%");
}

/** Join channel names into a path with escaped names (the inverse of {@link splitChannelPath}). */
export function formatChannelPath(channels: readonly string[]): string {
  return channels.map(encodePathChannel).join(PATH_SEPARATOR);
}

/**
 * Split a path written with escaped names (`channel_paths.path`) into channel names. The separator is
 * exactly `" > "` (names are not trimmed, so leading/trailing spaces of a name survive); empty tokens
 * are dropped. O(length).
 */
export function splitChannelPath(path: string): string[] {
  const out: string[] = [];
  for (const token of path.split(PATH_SEPARATOR)) if (token.length > 0) out.push(decodePathChannel(token));
  return out;
}
