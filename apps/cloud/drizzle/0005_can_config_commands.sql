CREATE TABLE "can_configs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"dongle_id" uuid NOT NULL,
	"bitrate" integer NOT NULL,
	"sample_point_permille" integer NOT NULL,
	"mode" text NOT NULL,
	"use_raw" boolean NOT NULL,
	"prescaler" integer NOT NULL,
	"sjw" integer NOT NULL,
	"tseg1" integer NOT NULL,
	"tseg2" integer NOT NULL,
	"auto_retx" boolean NOT NULL,
	"tx_pause" boolean NOT NULL,
	"protocol_exc" boolean NOT NULL,
	"applied_by" uuid,
	"applied_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "can_configs_mode_check" CHECK ("can_configs"."mode" in ('normal', 'listen_only', 'loopback', 'ext_loop'))
);
--> statement-breakpoint
CREATE TABLE "commands" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"dongle_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"agent_id" uuid,
	"command" text NOT NULL,
	"timeout_ms" integer NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"stdout" text DEFAULT '' NOT NULL,
	"stderr" text DEFAULT '' NOT NULL,
	"exit_code" integer,
	"truncated" boolean DEFAULT false NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "commands_status_check" CHECK ("commands"."status" in ('queued', 'running', 'done', 'error', 'timeout'))
);
--> statement-breakpoint
ALTER TABLE "can_configs" ADD CONSTRAINT "can_configs_dongle_id_dongles_id_fk" FOREIGN KEY ("dongle_id") REFERENCES "public"."dongles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "can_configs" ADD CONSTRAINT "can_configs_applied_by_users_id_fk" FOREIGN KEY ("applied_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "commands" ADD CONSTRAINT "commands_dongle_id_dongles_id_fk" FOREIGN KEY ("dongle_id") REFERENCES "public"."dongles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "commands" ADD CONSTRAINT "commands_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "commands" ADD CONSTRAINT "commands_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "can_configs_dongle_idx" ON "can_configs" USING btree ("dongle_id");--> statement-breakpoint
CREATE INDEX "commands_dongle_created_idx" ON "commands" USING btree ("dongle_id","created_at");