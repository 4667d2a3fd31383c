/**
 * Channel paths as text, in ChannelAttribution's format: reading a path string into channel ids, and the
 * escaped form the warehouse writes (`channel_paths`: channel names joined by ' > ', '%' written '%25' and '>'
 * '%3E', so a name holding the separator reads back intact; includes/helpers.js pathChannel is the SQL side).
 *
 * The path transforms (fractribution's unique, exposure, first, frequency) are applied in SQL, in
 * definitions/aggregates/channel_paths.sqlx (vars.path_transform); test/warehouse-funnel.test.ts runs them on
 * fractribution's worked example.
 */
import { ModelInputError } from "./numeric.ts";

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
