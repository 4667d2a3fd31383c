DROP VIEW IF EXISTS `p.ds.sessions`;
DROP TABLE IF EXISTS `p.ds.sessions`
