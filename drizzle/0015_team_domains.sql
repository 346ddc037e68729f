CREATE TABLE "team_domains" (
	"id" serial PRIMARY KEY NOT NULL,
	"team_id" integer NOT NULL,
	"domain" varchar(253) NOT NULL,
	"txt_value" text NOT NULL,
	"verified_at" timestamp,
	"created_at" timestamp DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "team_domains" ADD CONSTRAINT "team_domains_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "team_domains_team_id_domain_key" ON "team_domains" USING btree ("team_id","domain");--> statement-breakpoint
CREATE UNIQUE INDEX "team_domains_verified_domain_key" ON "team_domains" USING btree ("domain") WHERE "team_domains"."verified_at" is not null;