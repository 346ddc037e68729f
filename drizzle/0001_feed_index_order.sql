DROP INDEX "activity_logs_team_id_timestamp_idx";--> statement-breakpoint
DROP INDEX "activity_logs_user_id_timestamp_idx";--> statement-breakpoint
CREATE INDEX "activity_logs_team_id_timestamp_idx" ON "activity_logs" USING btree ("team_id","timestamp" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "activity_logs_user_id_timestamp_idx" ON "activity_logs" USING btree ("user_id","timestamp" DESC NULLS FIRST,"id" DESC NULLS FIRST);