MERGE `p.ds.sessions` DATAFORM_DEST
USING (
SELECT session_key, chain_key, session_date FROM `p.ds.src`
) DATAFORM_SOURCE
ON DATAFORM_DEST.`session_key` = DATAFORM_SOURCE.`session_key`
WHEN MATCHED THEN UPDATE SET `chain_key` = DATAFORM_SOURCE.`chain_key`, `session_date` = DATAFORM_SOURCE.`session_date`
WHEN NOT MATCHED THEN INSERT (`session_key`, `chain_key`, `session_date`) VALUES (DATAFORM_SOURCE.`session_key`, DATAFORM_SOURCE.`chain_key`, DATAFORM_SOURCE.`session_date`)
