-- First: the members' composite foreign key to dongles (id, owner_user_id) needs this unique key.
ALTER TABLE "dongles" ADD CONSTRAINT "dongles_id_owner_key" UNIQUE("id","owner_user_id");--> statement-breakpoint
CREATE TABLE "dongle_group_members" (
	"dongle_id" uuid PRIMARY KEY NOT NULL,
	"group_id" uuid NOT NULL,
	"owner_user_id" uuid NOT NULL,
	"side" text NOT NULL,
	CONSTRAINT "dongle_group_members_group_side_key" UNIQUE("group_id","side"),
	CONSTRAINT "dongle_group_members_side_check" CHECK ("dongle_group_members"."side" in ('a', 'b'))
);
--> statement-breakpoint
CREATE TABLE "dongle_groups" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_user_id" uuid NOT NULL,
	"name" text NOT NULL,
	"dongle_a_id" uuid NOT NULL,
	"dongle_b_id" uuid NOT NULL,
	"mode" text DEFAULT 'inactive' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dongle_groups_id_owner_key" UNIQUE("id","owner_user_id"),
	CONSTRAINT "dongle_groups_dongle_a_key" UNIQUE("dongle_a_id"),
	CONSTRAINT "dongle_groups_dongle_b_key" UNIQUE("dongle_b_id"),
	CONSTRAINT "dongle_groups_mode_check" CHECK ("dongle_groups"."mode" in ('inactive', 'active', 'degraded')),
	CONSTRAINT "dongle_groups_distinct_check" CHECK ("dongle_groups"."dongle_a_id" <> "dongle_groups"."dongle_b_id"),
	CONSTRAINT "dongle_groups_name_check" CHECK (char_length("dongle_groups"."name") between 1 and 80)
);
--> statement-breakpoint
ALTER TABLE "dongle_group_members" ADD CONSTRAINT "dongle_group_members_dongle_owner_fk" FOREIGN KEY ("dongle_id","owner_user_id") REFERENCES "public"."dongles"("id","owner_user_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dongle_group_members" ADD CONSTRAINT "dongle_group_members_group_owner_fk" FOREIGN KEY ("group_id","owner_user_id") REFERENCES "public"."dongle_groups"("id","owner_user_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dongle_groups" ADD CONSTRAINT "dongle_groups_owner_user_id_users_id_fk" FOREIGN KEY ("owner_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dongle_groups" ADD CONSTRAINT "dongle_groups_dongle_a_id_dongles_id_fk" FOREIGN KEY ("dongle_a_id") REFERENCES "public"."dongles"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dongle_groups" ADD CONSTRAINT "dongle_groups_dongle_b_id_dongles_id_fk" FOREIGN KEY ("dongle_b_id") REFERENCES "public"."dongles"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "dongle_groups_owner_idx" ON "dongle_groups" USING btree ("owner_user_id","created_at");