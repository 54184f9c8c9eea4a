CREATE TABLE "dongle_sightings" (
	"dongle_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"lan_ip" text NOT NULL,
	"udp_port" integer NOT NULL,
	"interface" text NOT NULL,
	"fw_build" text,
	"proto_ver" integer,
	"capabilities" bigint,
	"pairing_state" text NOT NULL,
	"online" boolean NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"reported_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dongle_sightings_dongle_id_agent_id_pk" PRIMARY KEY("dongle_id","agent_id"),
	CONSTRAINT "dongle_sightings_pairing_state_check" CHECK ("dongle_sightings"."pairing_state" in ('normal', 'pairing'))
);
--> statement-breakpoint
CREATE TABLE "dongles" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"device_id" text NOT NULL,
	"owner_user_id" uuid,
	"ownership_state" text DEFAULT 'UNCLAIMED' NOT NULL,
	"fw_build" text,
	"last_seen_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dongles_device_id_check" CHECK ("dongles"."device_id" ~ '^[0-9a-f]{16}$'),
	CONSTRAINT "dongles_ownership_state_check" CHECK ("dongles"."ownership_state" in ('UNCLAIMED', 'CLAIMED_ACTIVE', 'RESET_DETECTED', 'SECURITY_HOLD')),
	CONSTRAINT "dongles_unclaimed_owner_check" CHECK ("dongles"."ownership_state" <> 'UNCLAIMED' or "dongles"."owner_user_id" is null),
	CONSTRAINT "dongles_claimed_owner_check" CHECK ("dongles"."ownership_state" <> 'CLAIMED_ACTIVE' or "dongles"."owner_user_id" is not null)
);
--> statement-breakpoint
ALTER TABLE "dongle_sightings" ADD CONSTRAINT "dongle_sightings_dongle_id_dongles_id_fk" FOREIGN KEY ("dongle_id") REFERENCES "public"."dongles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dongle_sightings" ADD CONSTRAINT "dongle_sightings_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dongles" ADD CONSTRAINT "dongles_owner_user_id_users_id_fk" FOREIGN KEY ("owner_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "dongle_sightings_agent_idx" ON "dongle_sightings" USING btree ("agent_id");--> statement-breakpoint
CREATE UNIQUE INDEX "dongles_device_id_idx" ON "dongles" USING btree ("device_id");--> statement-breakpoint
CREATE INDEX "dongles_owner_idx" ON "dongles" USING btree ("owner_user_id");