ALTER TABLE "teams" ADD COLUMN "cancel_at_period_end" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "teams" ADD COLUMN "current_period_end" timestamp;--> statement-breakpoint
ALTER TABLE "teams" ADD COLUMN "per_seat" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "teams" ADD COLUMN "stripe_subscription_item_id" text;--> statement-breakpoint
ALTER TABLE "teams" ADD COLUMN "plan_limits" jsonb;--> statement-breakpoint
ALTER TABLE "teams" ADD COLUMN "plan_override" jsonb;--> statement-breakpoint
ALTER TABLE "teams" ADD COLUMN "features" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "teams" ADD COLUMN "features_as_of" bigint;--> statement-breakpoint
ALTER TABLE "teams" ADD COLUMN "membership_version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "teams" ADD COLUMN "seats_billed" integer;--> statement-breakpoint
ALTER TABLE "teams" ADD COLUMN "seats_billed_version" integer;