ALTER TABLE "webhook_endpoints" ADD COLUMN "created_by" integer;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "webhook_endpoints_created_by_idx" ON "webhook_endpoints" USING btree ("created_by");--> statement-breakpoint
-- Endpoints made before this column: WebhooksService.create wrote each with its CREATE_WEBHOOK
-- row in one transaction, so both carry that transaction's now(). The row's user_id is the
-- creator (a key's creator for a key), which a password reset needs to find the endpoints an
-- unverified account set up. An endpoint without such a row keeps NULL (creator unknown).
UPDATE "webhook_endpoints" AS w SET "created_by" = a."user_id"
FROM "activity_logs" AS a
WHERE a."action" = 'CREATE_WEBHOOK'
  AND a."team_id" = w."team_id"
  AND a."timestamp" = w."created_at"
  AND w."created_by" IS NULL;
