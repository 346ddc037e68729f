ALTER TABLE "webhook_endpoints" ADD COLUMN "busy_until" timestamp;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "failure_streak" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "webhook_deliveries_pending_idx" ON "webhook_deliveries" USING btree ("endpoint_id","next_attempt_at","id") WHERE "webhook_deliveries"."status" = 'pending';