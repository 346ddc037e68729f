CREATE INDEX "activity_logs_timestamp_team_id_idx" ON "activity_logs" USING btree ("timestamp","team_id");--> statement-breakpoint
CREATE INDEX "invitations_invited_at_status_idx" ON "invitations" USING btree ("invited_at","status");--> statement-breakpoint
CREATE INDEX "teams_plan_name_subscription_status_idx" ON "teams" USING btree ("plan_name","subscription_status");--> statement-breakpoint
CREATE INDEX "users_created_at_idx" ON "users" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_failed_updated_at_idx" ON "webhook_deliveries" USING btree ("updated_at") WHERE "webhook_deliveries"."status" = 'failed';