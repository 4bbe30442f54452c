-- The event stream's history (GET /v1/x-masakari/events, docs/observability.md): the newest events.history_size bus
-- events, for Last-Event-ID resume. AUTOINCREMENT, so an id is never reused after older events are trimmed: it is
-- the stream's event id, increasing across every controller sharing this store.
CREATE TABLE `events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`type` text NOT NULL,
	`at` integer NOT NULL,
	`payload` text NOT NULL
);
