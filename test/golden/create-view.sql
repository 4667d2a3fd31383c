CREATE OR REPLACE VIEW `p.ds.sessions` AS (
SELECT session_key, chain_key, session_date FROM `p.ds.src`
)
