DELETE FROM `p.ds.sessions` WHERE session_date IN (SELECT DISTINCT session_date FROM (
SELECT session_key, chain_key, session_date FROM `p.ds.src`
));
INSERT INTO `p.ds.sessions` (`session_key`, `session_date`)
SELECT `session_key`, `session_date` FROM (
SELECT session_key, chain_key, session_date FROM `p.ds.src`
) AS insertions
