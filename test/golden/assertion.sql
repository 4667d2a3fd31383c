SELECT COUNT(*) AS failing_rows FROM (
SELECT 1 AS x
)
