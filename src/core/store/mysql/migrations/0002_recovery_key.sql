-- The recovery claim's key gets a column named for what it holds (a failed host's name, or `instance:<uuid>` for an
-- instance failure); it said host_name for both. A rename: a claim held during the upgrade stays held. CHANGE
-- rather than RENAME COLUMN, which MySQL 5.7 and MariaDB before 10.5 lack. See ../../sqlite/migrations/0002.
ALTER TABLE `host_recovery_claims` CHANGE `host_name` `recovery_key` varchar(255) NOT NULL;
