-- The recovery claim's key gets a column named for what it holds. The engine claims a failed host by its name and an
-- instance failure by `instance:<uuid>` (one workflow per failed host or instance, src/core/engine/engine.ts); the
-- column said host_name for both. A rename: a claim held during the upgrade stays held.
ALTER TABLE `host_recovery_claims` RENAME COLUMN `host_name` TO `recovery_key`;
