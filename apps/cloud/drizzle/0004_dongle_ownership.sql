CREATE TABLE "dongle_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"dongle_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"key_version" integer NOT NULL,
	"nonce" "bytea" NOT NULL,
	"ciphertext" "bytea" NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"rotated_at" timestamp with time zone,
	CONSTRAINT "dongle_tokens_key_version_check" CHECK ("dongle_tokens"."key_version" >= 1),
	CONSTRAINT "dongle_tokens_nonce_check" CHECK (octet_length("dongle_tokens"."nonce") = 12)
);
--> statement-breakpoint
CREATE TABLE "pairing_sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"dongle_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"state" text DEFAULT 'open' NOT NULL,
	"nonce" "bytea",
	"wrong_pins" integer DEFAULT 0 NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "pairing_sessions_state_check" CHECK ("pairing_sessions"."state" in ('open', 'submitting', 'paired', 'failed', 'expired'))
);
--> statement-breakpoint
ALTER TABLE "dongle_tokens" ADD CONSTRAINT "dongle_tokens_dongle_id_dongles_id_fk" FOREIGN KEY ("dongle_id") REFERENCES "public"."dongles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dongle_tokens" ADD CONSTRAINT "dongle_tokens_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pairing_sessions" ADD CONSTRAINT "pairing_sessions_dongle_id_dongles_id_fk" FOREIGN KEY ("dongle_id") REFERENCES "public"."dongles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pairing_sessions" ADD CONSTRAINT "pairing_sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pairing_sessions" ADD CONSTRAINT "pairing_sessions_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "dongle_tokens_dongle_idx" ON "dongle_tokens" USING btree ("dongle_id");--> statement-breakpoint
CREATE INDEX "dongle_tokens_key_version_idx" ON "dongle_tokens" USING btree ("key_version");--> statement-breakpoint
CREATE INDEX "pairing_sessions_dongle_idx" ON "pairing_sessions" USING btree ("dongle_id","created_at");