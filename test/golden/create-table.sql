CREATE OR REPLACE TABLE `p.ds.sessions`
PARTITION BY session_date
CLUSTER BY `chain_key`
OPTIONS(description="one row per session")
AS (
SELECT session_key, chain_key, session_date FROM `p.ds.src`
)
