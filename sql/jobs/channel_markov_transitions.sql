-- Grain: one row per step of the channel chain at order {{order}} (1 to 4), its states' channels (from_channel…,
-- to_channel…); from_channel NULL is (start), to_channel NULL is the end of the path (conversion or null).
-- ChannelAttribution's rule: a path is (start) → its states → its end, consecutive identical states collapsed,
-- each step weighted by the path's rows. Channels are as written in the path (escaped, see helpers.pathChannel);
-- the job decodes them. Sums of channel_paths' columns only: the job weights a step by total_conversions +
-- total_null (total_conversions alone without vars.markov_use_nulls). The job writes the order in for {{order}}.
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

-- A state is a window of {{order}} consecutive touches of the raw path (ChannelAttribution's sliding rule; at order 1
-- one touch), a path shorter than that is one shorter state. Step i goes from window i − 1 to window i; past either
-- end the offsets read NULL: (start), the end. Touches past the order or the path are NULL.
path_steps AS (
  SELECT
    IF(step = 0, NULL, p.channels[SAFE_OFFSET(step - 1)]) AS from_channel,
    IF(step = 0 OR 1 >= {{order}}, NULL, p.channels[SAFE_OFFSET(step)]) AS from_channel_2,
    IF(step = 0 OR 2 >= {{order}}, NULL, p.channels[SAFE_OFFSET(step + 1)]) AS from_channel_3,
    IF(step = 0 OR 3 >= {{order}}, NULL, p.channels[SAFE_OFFSET(step + 2)]) AS from_channel_4,
    IF(step = p.windows, NULL, p.channels[SAFE_OFFSET(step)]) AS to_channel,
    IF(step = p.windows OR 1 >= {{order}}, NULL, p.channels[SAFE_OFFSET(step + 1)]) AS to_channel_2,
    IF(step = p.windows OR 2 >= {{order}}, NULL, p.channels[SAFE_OFFSET(step + 2)]) AS to_channel_3,
    IF(step = p.windows OR 3 >= {{order}}, NULL, p.channels[SAFE_OFFSET(step + 3)]) AS to_channel_4,
    p.total_conversions,
    p.total_conversion_value,
    p.total_null
  FROM (SELECT *, GREATEST(ARRAY_LENGTH(channels) - {{order}} + 1, 1) AS windows FROM paths_as_channels) AS p
  CROSS JOIN UNNEST(GENERATE_ARRAY(0, p.windows)) AS step
)

SELECT
  from_channel,
  from_channel_2,
  from_channel_3,
  from_channel_4,
  to_channel,
  to_channel_2,
  to_channel_3,
  to_channel_4,
  SUM(total_conversions) AS total_conversions,
  SUM(total_null) AS total_null,
  -- values are summed as NUMERIC (channel_paths rounds them to 9 decimals): exact, so the adding order of a
  -- parallel plan cannot change the last bits and a re-run gives byte-identical credit
  CAST(SUM(IF(to_channel IS NULL, CAST(total_conversion_value AS NUMERIC), 0)) AS FLOAT64) AS total_conversion_value,
  -- the mean value of a conversion ending here counts only the paths that convert
  CAST(SUM(IF(to_channel IS NULL AND total_conversions > 0, CAST(total_conversion_value AS NUMERIC), 0)) AS FLOAT64) AS converting_value
FROM path_steps
-- consecutive identical states collapse
WHERE from_channel IS NULL OR to_channel IS NULL
  OR from_channel != to_channel
  OR from_channel_2 IS DISTINCT FROM to_channel_2
  OR from_channel_3 IS DISTINCT FROM to_channel_3
  OR from_channel_4 IS DISTINCT FROM to_channel_4
GROUP BY from_channel, from_channel_2, from_channel_3, from_channel_4, to_channel, to_channel_2, to_channel_3, to_channel_4
