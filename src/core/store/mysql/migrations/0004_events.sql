-- The event stream's history (see ../../sqlite/migrations/0004): AUTO_INCREMENT id = the stream's event id, the
-- same sequence for every controller sharing the database.
CREATE TABLE `events` (
	`id` bigint AUTO_INCREMENT NOT NULL,
	`type` varchar(255) NOT NULL,
	`at` bigint NOT NULL,
	`payload` mediumtext NOT NULL,
	CONSTRAINT `events_id` PRIMARY KEY(`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
