-- Grain: one row per step of the order-1 channel chain, (from_channel, to_channel); from_channel NULL is
-- (start), to_channel NULL is the end of the path (conversion or null). ChannelAttribution's rule: a path
-- is (start) → its channels with consecutive repeats collapsed → its end, each step weighted by the path's
-- rows. Channels are as written in the path (escaped, see helpers.pathChannel); the job decodes them.
-- Sums of channel_paths' columns only: the job weights a step by total_conversions + total_null (total_conversions
-- alone without vars.markov_use_nulls).
WITH
-- Empty names drop out, as when the path is split in TypeScript: a run of adjacent ' > ' is one separator,
-- and one at either end is none.
paths_without_empty_names AS (
  SELECT
    IF(STRPOS(path, ' >  > ') > 0 OR STARTS_WITH(path, ' > ') OR ENDS_WITH(path, ' > '),
      REGEXP_REPLACE(REGEXP_REPLACE(path, r'( > )+', ' > '), r'^ > | > $', ''),
      path) AS path,
    IFNULL(total_conversions, 0) AS total_conversions,
    IFNULL(total_conversion_value, 0) AS total_conversion_value,
    IFNULL(total_null, 0) AS total_null
  FROM {{channel_paths}}
  WHERE path IS NOT NULL
),

paths_as_channels AS (
  SELECT
    SPLIT(path, ' > ') AS channels,
    total_conversions,
    total_conversion_value,
    total_null
  FROM paths_without_empty_names
  WHERE path != ''
),

-- Step i goes from channel i − 1 to channel i; past either end the offset reads NULL: (start), the end.
path_steps AS (
  SELECT
    p.channels[SAFE_OFFSET(step - 1)] AS from_channel,
    p.channels[SAFE_OFFSET(step)] AS to_channel,
    p.total_conversions,
    p.total_conversion_value,
    p.total_null
  FROM paths_as_channels AS p
  CROSS JOIN UNNEST(GENERATE_ARRAY(0, ARRAY_LENGTH(p.channels))) AS step
)

SELECT
  from_channel,
  to_channel,
  SUM(total_conversions) AS total_conversions,
  SUM(total_null) AS total_null,
  SUM(IF(to_channel IS NULL, total_conversion_value, 0)) AS total_conversion_value,
  -- the mean value of a conversion ending here counts only the paths that convert
  SUM(IF(to_channel IS NULL AND total_conversions > 0, total_conversion_value, 0)) AS converting_value
FROM path_steps
WHERE from_channel IS NULL OR to_channel IS NULL OR from_channel != to_channel
GROUP BY from_channel, to_channel
