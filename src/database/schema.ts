import { relations, sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  json,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';

// The five product tables follow ../shared/seed/schema-reference.txt column for column.
// Extra indexes and constraints serve integrity and the API's access paths; the tables
// after them (sessions, password resets, Stripe events, admin sessions) are ours.

export const users = pgTable(
  'users',
  {
    id: serial('id').primaryKey(),
    name: varchar('name', { length: 100 }),
    email: varchar('email', { length: 255 }).notNull().unique(),
    passwordHash: text('password_hash').notNull(),
    role: varchar('role', { length: 20 }).notNull().default('member'),
    createdAt: timestamp('created_at').notNull().defaultNow(),
    updatedAt: timestamp('updated_at').notNull().defaultNow(),
    deletedAt: timestamp('deleted_at'),
    /**
     * When `email` was proven to be this user's mailbox (a verification link, an invitation
     * link to it, a password reset link); null = unverified. An address counts as the user's
     * only once verified. A confirmed change of address keeps the time (the account had a
     * proven address throughout): a password reset removes what was set up before it.
     * Accounts that existed before this column (migration 0002) start unverified on purpose:
     * nothing proved their address, and that is exactly the hole verification closes.
     */
    emailVerifiedAt: timestamp('email_verified_at'),
    /**
     * An address the user asked to change to (PATCH /users/me), not yet confirmed through its
     * link; `email` stays in use until then. Not unique: the first to confirm wins.
     */
    pendingEmail: varchar('pending_email', { length: 255 }),
    /**
     * When two-factor sign-in (TOTP) was switched on (confirmed with a first code); null = off.
     * The secret and its state live in `user_totp`, owned by the auth module.
     */
    mfaEnabledAt: timestamp('mfa_enabled_at'),
    /**
     * Raised each time every session of the user ends (password change or reset, "sign out
     * everywhere", MFA switched on, an admin's "revoke sessions", account deletion). A
     * back-office session keeps the value it signed in with and ends once it differs: the
     * panel's sessions live in `admin_sessions` (admin module), which auth never touches.
     */
    sessionEpoch: integer('session_epoch').notNull().default(0),
    /**
     * The language of the user's mails and, without an Accept-Language the app supports, of
     * their error messages: a BCP 47 tag of common/i18n SUPPORTED_LOCALES. Not a check
     * constraint: adding a language should need no migration. Existing accounts: `en`.
     */
    locale: varchar('locale', { length: 35 }).notNull().default('en'),
  },
  (t) => [
    check('users_role_check', sql`${t.role} in ('member', 'admin', 'support')`),
    // Back-office dashboard: sign-ups per day over a date range (admin.repository.ts).
    index('users_created_at_idx').on(t.createdAt),
  ],
);

/**
 * A plan's limits, camel-cased from the product metadata keys (`max_members` → maxMembers).
 * An absent key or null = unlimited.
 */
export interface PlanLimits {
  maxMembers?: number | null;
  maxApiKeys?: number | null;
  maxWebhooks?: number | null;
}

export const teams = pgTable(
  'teams',
  {
    id: serial('id').primaryKey(),
    name: varchar('name', { length: 100 }).notNull(),
    createdAt: timestamp('created_at').notNull().defaultNow(),
    updatedAt: timestamp('updated_at').notNull().defaultNow(),
    stripeCustomerId: text('stripe_customer_id').unique(),
    stripeSubscriptionId: text('stripe_subscription_id').unique(),
    stripeProductId: text('stripe_product_id'),
    planName: varchar('plan_name', { length: 50 }),
    subscriptionStatus: varchar('subscription_status', { length: 20 }),
    // v1.2 plans, seats and entitlements (written by the billing module through
    // TeamsService.setBilling, as the Stripe columns above; the admin writes planOverride).
    /** Stripe's `cancel_at_period_end` of the live subscription. */
    cancelAtPeriodEnd: boolean('cancel_at_period_end').notNull().default(false),
    /** End of the live subscription's current period (its item's `current_period_end`). */
    currentPeriodEnd: timestamp('current_period_end'),
    /** The subscription's price bills per member (`price.metadata.per_seat = 'true'`). */
    perSeat: boolean('per_seat').notNull().default(false),
    /** The subscription item whose `quantity` follows the member count when per seat. */
    stripeSubscriptionItemId: text('stripe_subscription_item_id'),
    /**
     * The product's limits (its `metadata.max_*`) as of the last subscription sync; null
     * without a live subscription (then FREE_PLAN_LIMITS apply). A key absent = unlimited.
     */
    planLimits: jsonb('plan_limits').$type<PlanLimits>(),
    /** An admin's limits for a deal made outside Stripe: wins over planLimits and the free plan. */
    planOverride: jsonb('plan_override').$type<PlanLimits>(),
    /** Lookup keys of the Stripe customer's active entitlements. */
    features: text('features')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    /** Stripe `created` (Unix s) of the entitlements summary applied last: older ones lose. */
    featuresAsOf: bigint('features_as_of', { mode: 'number' }),
    /**
     * Raised in the same transaction as every membership change (join, accept, leave, remove,
     * SCIM): the seat job's idempotency key is derived from the team and this version.
     */
    membershipVersion: integer('membership_version').notNull().default(0),
    /** The quantity Stripe last confirmed for the subscription item (`seats.billed`). */
    seatsBilled: integer('seats_billed'),
    /** The membershipVersion that seatsBilled was sent for: an older job's answer never wins. */
    seatsBilledVersion: integer('seats_billed_version'),
  },
  // Back-office dashboard: teams by plan and by subscription status, counted from the index
  // alone (an index-only scan instead of reading every team row).
  (t) => [index('teams_plan_name_subscription_status_idx').on(t.planName, t.subscriptionStatus)],
);

export const teamMembers = pgTable(
  'team_members',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id),
    role: varchar('role', { length: 50 }).notNull(),
    joinedAt: timestamp('joined_at').notNull().defaultNow(),
  },
  (t) => [
    // One membership per user and team: concurrent joins cannot create duplicates.
    uniqueIndex('team_members_team_id_user_id_key').on(t.teamId, t.userId),
    index('team_members_user_id_idx').on(t.userId),
    check('team_members_role_check', sql`${t.role} in ('owner', 'member')`),
  ],
);

export const activityLogs = pgTable(
  'activity_logs',
  {
    id: serial('id').primaryKey(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id),
    userId: integer('user_id').references(() => users.id),
    action: text('action').notNull(),
    timestamp: timestamp('timestamp').notNull().defaultNow(),
    ipAddress: varchar('ip_address', { length: 45 }),
    /**
     * Why a back-office admin acted, for the actions that require one (ADMIN_DISABLE_MFA: the
     * identity check that was made). Null otherwise. Shown in /admin only, not in the API feeds.
     */
    reason: varchar('reason', { length: 500 }),
  },
  (t) => [
    // Feeds are read newest first with (timestamp, id) keyset cursors. NULLS FIRST is what a
    // plain `ORDER BY x DESC` means; with Drizzle's default (NULLS LAST) the index cannot
    // deliver that order and every page sorted the whole feed before it (bench/RESULTS.md).
    index('activity_logs_team_id_timestamp_idx').on(
      t.teamId,
      t.timestamp.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    index('activity_logs_user_id_timestamp_idx').on(
      t.userId,
      t.timestamp.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    // Back-office dashboard: active teams per day over a date range (index-only scan).
    index('activity_logs_timestamp_team_id_idx').on(t.timestamp, t.teamId),
  ],
);

export const invitations = pgTable(
  'invitations',
  {
    id: serial('id').primaryKey(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id),
    email: varchar('email', { length: 255 }).notNull(),
    role: varchar('role', { length: 50 }).notNull(),
    invitedBy: integer('invited_by')
      .notNull()
      .references(() => users.id),
    invitedAt: timestamp('invited_at').notNull().defaultNow(),
    status: varchar('status', { length: 20 }).notNull().default('pending'),
  },
  (t) => [
    // At most one pending invitation per team and address.
    uniqueIndex('invitations_team_id_email_pending_key')
      .on(t.teamId, t.email)
      .where(sql`${t.status} = 'pending'`),
    index('invitations_email_idx').on(t.email),
    // Back-office dashboard: invitations sent and accepted per day (index-only scan).
    index('invitations_invited_at_status_idx').on(t.invitedAt, t.status),
    check('invitations_role_check', sql`${t.role} in ('owner', 'member')`),
    check(
      'invitations_status_check',
      sql`${t.status} in ('pending', 'accepted', 'declined', 'revoked', 'expired')`,
    ),
  ],
);

/** A signed-in device. The access JWT carries its id (`sid`); the refresh token is stored hashed. */
export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    refreshTokenHash: text('refresh_token_hash').notNull().unique(),
    createdAt: timestamp('created_at').notNull().defaultNow(),
    lastRefreshedAt: timestamp('last_refreshed_at').notNull().defaultNow(),
    expiresAt: timestamp('expires_at').notNull(),
    revokedAt: timestamp('revoked_at'),
    revokedReason: varchar('revoked_reason', { length: 50 }),
    userAgent: varchar('user_agent', { length: 500 }),
    ipAddress: varchar('ip_address', { length: 45 }),
    /**
     * Last request made with the session's tokens, to within LAST_USED_RESOLUTION_MS (the
     * guard writes it only when the stored value is older than that, not on every request).
     */
    lastUsedAt: timestamp('last_used_at').notNull().defaultNow(),
  },
  (t) => [
    index('sessions_user_id_idx').on(t.userId),
    // Housekeeping deletes expired sessions.
    index('sessions_expires_at_idx').on(t.expiresAt),
  ],
);

/**
 * A user's TOTP authenticator (RFC 6238). Written at enrolment (pending until confirmed, when
 * users.mfa_enabled_at is set) and deleted when MFA is switched off. The secret is stored
 * encrypted (AES-256-GCM, MFA_ENCRYPTION_KEY); `lastUsedStep` is the 30-second step of the
 * last accepted code: a code of that step or an earlier one is refused (no replay).
 */
export const userTotp = pgTable('user_totp', {
  userId: integer('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  secretEncrypted: text('secret_encrypted').notNull(),
  lastUsedStep: bigint('last_used_step', { mode: 'number' }),
  createdAt: timestamp('created_at').notNull().defaultNow(),
});

/** Single-use MFA recovery codes, stored as SHA-256 of the (high-entropy) code. */
export const mfaRecoveryCodes = pgTable(
  'mfa_recovery_codes',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    createdAt: timestamp('created_at').notNull().defaultNow(),
    usedAt: timestamp('used_at'),
  },
  (t) => [uniqueIndex('mfa_recovery_codes_user_id_code_hash_key').on(t.userId, t.codeHash)],
);

/**
 * The second step of a sign-in with MFA: the `mfaToken` POST /auth/sign-in answers after the
 * right password, stored hashed, valid 5 minutes, used once (by the right code).
 */
export const mfaChallenges = pgTable(
  'mfa_challenges',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: timestamp('created_at').notNull().defaultNow(),
    expiresAt: timestamp('expires_at').notNull(),
    usedAt: timestamp('used_at'),
  },
  (t) => [index('mfa_challenges_user_id_idx').on(t.userId)],
);

/** Single-use password reset tokens, stored hashed. */
export const passwordResetTokens = pgTable(
  'password_reset_tokens',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: timestamp('created_at').notNull().defaultNow(),
    expiresAt: timestamp('expires_at').notNull(),
    usedAt: timestamp('used_at'),
  },
  (t) => [
    index('password_reset_tokens_user_id_idx').on(t.userId),
    index('password_reset_tokens_expires_at_idx').on(t.expiresAt),
  ],
);

/**
 * Single-use email verification links, stored hashed. `email` is the address the link proves:
 * the user's current email (sign-up, resend) or their pending one (email change).
 */
export const emailVerificationTokens = pgTable(
  'email_verification_tokens',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    email: varchar('email', { length: 255 }).notNull(),
    createdAt: timestamp('created_at').notNull().defaultNow(),
    expiresAt: timestamp('expires_at').notNull(),
    usedAt: timestamp('used_at'),
  },
  (t) => [
    index('email_verification_tokens_user_id_idx').on(t.userId),
    index('email_verification_tokens_expires_at_idx').on(t.expiresAt),
  ],
);

/** Stripe webhook events already applied: one row per event id, written with the team update. */
export const stripeEvents = pgTable(
  'stripe_events',
  {
    id: text('id').primaryKey(),
    type: varchar('type', { length: 100 }).notNull(),
    /** Stripe's `created` of the event. */
    createdAt: timestamp('created_at').notNull(),
    processedAt: timestamp('processed_at').notNull().defaultNow(),
    stripeCustomerId: text('stripe_customer_id'),
    teamId: integer('team_id').references(() => teams.id),
  },
  (t) => [index('stripe_events_customer_created_idx').on(t.stripeCustomerId, t.createdAt)],
);

/**
 * Mails the billing module sent once per Stripe object, whatever number of events or deliveries
 * announce it: `payment_failed` per invoice id (dunning), `trial_will_end` per subscription and
 * trial end. The row is inserted in the transaction that queues the mails, so two deliveries
 * (or two events) for one invoice queue them once. Owned by billing.
 */
export const billingNotices = pgTable(
  'billing_notices',
  {
    kind: varchar('kind', { length: 40 }).notNull(),
    /** The Stripe object the notice is about (`in_…`, `sub_…@<trial_end>`). */
    subjectId: text('subject_id').notNull(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.subjectId] })],
);

/**
 * Team API keys (`nsk_…`): a key acts for exactly one team within its scopes. Only the SHA-256
 * of the whole key is stored (keys are 256-bit random, so a fast hash is enough: there is
 * nothing to brute-force); `prefix` (`nsk_` + 12 public hex characters) is unique and finds the
 * row before the hashes are compared in constant time. Owned by the api-keys module.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: serial('id').primaryKey(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id),
    name: varchar('name', { length: 100 }).notNull(),
    prefix: varchar('prefix', { length: 32 }).notNull().unique(),
    hash: text('hash').notNull(),
    scopes: text('scopes').array().notNull(),
    /** The owner who created it; activity written with the key names this user. */
    createdBy: integer('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at').notNull().defaultNow(),
    expiresAt: timestamp('expires_at'),
    revokedAt: timestamp('revoked_at'),
    lastUsedAt: timestamp('last_used_at'),
  },
  (t) => [
    index('api_keys_team_id_idx').on(t.teamId, t.id.desc()),
    check('api_keys_scopes_not_empty', sql`cardinality(${t.scopes}) > 0`),
  ],
);

/** Back-office (AdminJS) sessions, in the layout connect-pg-simple expects. */
export const adminSessions = pgTable(
  'admin_sessions',
  {
    sid: varchar('sid').primaryKey(),
    sess: json('sess').notNull(),
    expire: timestamp('expire', { precision: 6 }).notNull(),
  },
  (t) => [index('admin_sessions_expire_idx').on(t.expire)],
);

/**
 * A provider identity (OpenID Connect issuer + `sub`) that signs in as a user. The pair is
 * what a provider promises to keep stable; the email is only the last one it reported.
 */
export const oidcIdentities = pgTable(
  'oidc_identities',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The OIDC_PROVIDERS id it came through (informational: the issuer is the key). */
    provider: varchar('provider', { length: 32 }).notNull(),
    issuer: text('issuer').notNull(),
    subject: varchar('subject', { length: 255 }).notNull(),
    email: varchar('email', { length: 255 }),
    createdAt: timestamp('created_at').notNull().defaultNow(),
    lastSignInAt: timestamp('last_sign_in_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('oidc_identities_issuer_subject_key').on(t.issuer, t.subject),
    index('oidc_identities_user_id_idx').on(t.userId),
  ],
);

/**
 * A started OpenID Connect sign-in, between GET …/authorize and the provider's redirect to
 * …/callback: `state`, `nonce` and the PKCE verifier the callback checks against. A row (not
 * a self-contained cookie) so the callback can consume it exactly once (DELETE … RETURNING);
 * the browser only holds a cookie `<id>.<secret>` whose SHA-256 is `browserHash`, so a
 * callback URL replayed from another browser finds no flow. Lives 10 minutes.
 */
export const oidcLoginFlows = pgTable(
  'oidc_login_flows',
  {
    id: uuid('id').primaryKey(),
    provider: varchar('provider', { length: 32 }).notNull(),
    browserHash: text('browser_hash').notNull(),
    state: text('state').notNull(),
    nonce: text('nonce').notNull(),
    codeVerifier: text('code_verifier').notNull(),
    createdAt: timestamp('created_at').notNull().defaultNow(),
    expiresAt: timestamp('expires_at').notNull(),
  },
  (t) => [index('oidc_login_flows_expires_at_idx').on(t.expiresAt)],
);

/**
 * The one-time code the callback hands the frontend (APP_URL/auth/callback?code=…) for
 * POST /auth/oidc/exchange: stored hashed, consumed once, valid 60 seconds. `signedUp` marks
 * a code for a user the callback just created (SIGN_UP already recorded, no SIGN_IN).
 */
export const oidcExchangeCodes = pgTable(
  'oidc_exchange_codes',
  {
    id: serial('id').primaryKey(),
    codeHash: text('code_hash').notNull().unique(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    signedUp: boolean('signed_up').notNull().default(false),
    createdAt: timestamp('created_at').notNull().defaultNow(),
    expiresAt: timestamp('expires_at').notNull(),
  },
  (t) => [
    index('oidc_exchange_codes_user_id_idx').on(t.userId),
    index('oidc_exchange_codes_expires_at_idx').on(t.expiresAt),
  ],
);

/**
 * A team's outgoing webhook endpoint (owned by the webhooks module). `secret` and
 * `previous_secret` are sealed (AES-256-GCM, key derived from JWT_SECRET): signing needs them
 * in clear, so they cannot be hashed. After a rotation the previous secret keeps signing
 * (a second signature) until `previous_secret_expires_at`.
 *
 * `busy_until`: no delivery attempt to the endpoint starts before it (null: free). The attempt
 * in flight holds it (its timeout plus a margin, so the hold of a worker that died lapses), and
 * a failed attempt pauses the endpoint; `failure_streak` (failed attempts in a row, 0 after a
 * success) makes the pause grow.
 */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: serial('id').primaryKey(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    url: varchar('url', { length: 2048 }).notNull(),
    description: varchar('description', { length: 500 }),
    events: text('events').array().notNull(),
    secret: text('secret').notNull(),
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at'),
    enabled: boolean('enabled').notNull().default(true),
    /**
     * Who set the endpoint up (a key names its creator, as in activity rows); null once that
     * user is deleted, or unknown for endpoints older than the column that had no
     * CREATE_WEBHOOK row to tell. A password reset removes the ones its user set up before
     * their address was verified (API.md v1.2, pre-account hijacking).
     */
    createdBy: integer('created_by').references(() => users.id, { onDelete: 'set null' }),
    /**
     * Delivery scheduling: the endpoint is claimed by one worker until `busy_until` (one request
     * at a time per endpoint), and `failure_streak` picks its backoff after failed requests.
     */
    busyUntil: timestamp('busy_until'),
    failureStreak: integer('failure_streak').notNull().default(0),
    createdAt: timestamp('created_at').notNull().defaultNow(),
    updatedAt: timestamp('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('webhook_endpoints_team_id_idx').on(t.teamId, t.id),
    // The password reset's lookup of a user's endpoints.
    index('webhook_endpoints_created_by_idx').on(t.createdBy),
  ],
);

/** An event of a team, stored in the transaction of the change that caused it. */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    /** `evt_…`: the `webhook-id` header and the body's `id`. */
    id: varchar('id', { length: 40 }).primaryKey(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    type: varchar('type', { length: 50 }).notNull(),
    /** The JSON body every delivery sends (json, not jsonb: key order is kept as written). */
    payload: json('payload').notNull(),
    createdAt: timestamp('created_at').notNull().defaultNow(),
  },
  (t) => [index('webhook_events_team_id_idx').on(t.teamId)],
);

/** One event to one endpoint: its attempts and outcome. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: serial('id').primaryKey(),
    endpointId: integer('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    eventId: varchar('event_id', { length: 40 })
      .notNull()
      .references(() => webhookEvents.id, { onDelete: 'cascade' }),
    status: varchar('status', { length: 20 }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastStatusCode: integer('last_status_code'),
    lastError: varchar('last_error', { length: 500 }),
    /** At most the first 1 KB of the last response body. */
    lastResponseExcerpt: varchar('last_response_excerpt', { length: 1024 }),
    nextAttemptAt: timestamp('next_attempt_at'),
    createdAt: timestamp('created_at').notNull().defaultNow(),
    updatedAt: timestamp('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('webhook_deliveries_endpoint_id_idx').on(t.endpointId, t.id.desc()),
    index('webhook_deliveries_event_id_idx').on(t.eventId),
    // Each endpoint's queue: its pending deliveries in the order they fall due.
    index('webhook_deliveries_pending_idx')
      .on(t.endpointId, t.nextAttemptAt, t.id)
      .where(sql`${t.status} = 'pending'`),
    // Back-office dashboard: failed deliveries per day of their last (failed) attempt.
    index('webhook_deliveries_failed_updated_at_idx')
      .on(t.updatedAt)
      .where(sql`${t.status} = 'failed'`),
    check(
      'webhook_deliveries_status_check',
      sql`${t.status} in ('pending', 'succeeded', 'failed')`,
    ),
  ],
);

export const teamsRelations = relations(teams, ({ many }) => ({
  teamMembers: many(teamMembers),
  activityLogs: many(activityLogs),
  invitations: many(invitations),
}));

export const usersRelations = relations(users, ({ many }) => ({
  teamMembers: many(teamMembers),
  invitationsSent: many(invitations),
  sessions: many(sessions),
}));

export const teamMembersRelations = relations(teamMembers, ({ one }) => ({
  user: one(users, { fields: [teamMembers.userId], references: [users.id] }),
  team: one(teams, { fields: [teamMembers.teamId], references: [teams.id] }),
}));

export const invitationsRelations = relations(invitations, ({ one }) => ({
  team: one(teams, { fields: [invitations.teamId], references: [teams.id] }),
  invitedBy: one(users, { fields: [invitations.invitedBy], references: [users.id] }),
}));

export const activityLogsRelations = relations(activityLogs, ({ one }) => ({
  team: one(teams, { fields: [activityLogs.teamId], references: [teams.id] }),
  user: one(users, { fields: [activityLogs.userId], references: [users.id] }),
}));

export const sessionsRelations = relations(sessions, ({ one }) => ({
  user: one(users, { fields: [sessions.userId], references: [users.id] }),
}));

export type User = typeof users.$inferSelect;
export type Team = typeof teams.$inferSelect;
export type TeamMember = typeof teamMembers.$inferSelect;
export type ActivityLog = typeof activityLogs.$inferSelect;
export type Invitation = typeof invitations.$inferSelect;
export type Session = typeof sessions.$inferSelect;
export type PasswordResetToken = typeof passwordResetTokens.$inferSelect;
export type StripeEvent = typeof stripeEvents.$inferSelect;
export type EmailVerificationToken = typeof emailVerificationTokens.$inferSelect;
export type ApiKey = typeof apiKeys.$inferSelect;
export type UserTotp = typeof userTotp.$inferSelect;
export type MfaChallenge = typeof mfaChallenges.$inferSelect;
export type OidcIdentity = typeof oidcIdentities.$inferSelect;
export type OidcLoginFlow = typeof oidcLoginFlows.$inferSelect;
export type OidcExchangeCode = typeof oidcExchangeCodes.$inferSelect;
export type WebhookEndpoint = typeof webhookEndpoints.$inferSelect;
export type WebhookEvent = typeof webhookEvents.$inferSelect;
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;

export type NewUser = typeof users.$inferInsert;
export type NewTeam = typeof teams.$inferInsert;
export type NewTeamMember = typeof teamMembers.$inferInsert;
export type NewActivityLog = typeof activityLogs.$inferInsert;
export type NewInvitation = typeof invitations.$inferInsert;
export type NewSession = typeof sessions.$inferInsert;

export type TeamDataWithMembers = Team & {
  teamMembers: (TeamMember & {
    user: Pick<User, 'id' | 'name' | 'email'>;
  })[];
};

/**
 * A domain a team claims (API.md v1.2 "Verified domains"); owned by the domains module.
 * `domain` is lower-case ASCII (IDNA A-labels). A team claims a domain once; many teams may
 * claim it, but only one may have it verified (the partial unique index).
 */
export const teamDomains = pgTable(
  'team_domains',
  {
    id: serial('id').primaryKey(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    domain: varchar('domain', { length: 253 }).notNull(),
    /** The value the TXT record `_nest-saas-challenge.<domain>` must contain. */
    txtValue: text('txt_value').notNull(),
    verifiedAt: timestamp('verified_at'),
    createdAt: timestamp('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('team_domains_team_id_domain_key').on(t.teamId, t.domain),
    uniqueIndex('team_domains_verified_domain_key')
      .on(t.domain)
      .where(sql`${t.verifiedAt} is not null`),
  ],
);

/**
 * A team's SCIM bearer tokens (`scim_…`, API.md v1.2 "Directory sync"); owned by the scim
 * module. Stored like API keys: only the SHA-256 of the whole token, found by its unique
 * public `prefix`. A token is the team's directory client (Okta, Entra ID): it acts for that
 * team only, until `revokedAt`.
 */
export const scimTokens = pgTable(
  'scim_tokens',
  {
    id: serial('id').primaryKey(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    name: varchar('name', { length: 100 }).notNull(),
    prefix: varchar('prefix', { length: 32 }).notNull(),
    hash: text('hash').notNull(),
    createdBy: integer('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at').notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at'),
    revokedAt: timestamp('revoked_at'),
  },
  (t) => [
    uniqueIndex('scim_tokens_prefix_unique').on(t.prefix),
    index('scim_tokens_team_id_idx').on(t.teamId, t.id),
  ],
);

/**
 * A team's directory settings (scim module): `ownerGroup` is the SCIM group whose members are
 * the team's owners. No row: the default, `Owners`.
 */
export const scimDirectories = pgTable('scim_directories', {
  teamId: integer('team_id')
    .primaryKey()
    .references(() => teams.id, { onDelete: 'cascade' }),
  ownerGroup: varchar('owner_group', { length: 255 }).notNull().default('Owners'),
  updatedAt: timestamp('updated_at').notNull().defaultNow(),
});

/**
 * A user as a team's directory knows them (scim module). `id` is the SCIM id the directory
 * keeps: it survives deactivation and reactivation, while the team membership (owned by the
 * teams module) exists only while `active`. One row per team and user.
 */
export const scimUsers = pgTable(
  'scim_users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** As the directory sent it (an email address); compared case-insensitively. */
    userName: varchar('user_name', { length: 255 }).notNull(),
    externalId: varchar('external_id', { length: 255 }),
    givenName: varchar('given_name', { length: 100 }),
    familyName: varchar('family_name', { length: 100 }),
    displayName: varchar('display_name', { length: 255 }),
    active: boolean('active').notNull().default(true),
    /**
     * This directory created the account (POST /Users found none). Deprovisioning ends the
     * sessions of such an account, or of one in a domain the team verified; an account the
     * directory merely linked elsewhere only loses its membership (no cross-team sign-out).
     */
    createdAccount: boolean('created_account').notNull().default(false),
    /** Raised on every change: the resource's ETag (`W/"<version>"`). */
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at').notNull().defaultNow(),
    updatedAt: timestamp('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('scim_users_team_id_user_id_key').on(t.teamId, t.userId),
    index('scim_users_team_id_user_name_idx').on(t.teamId, sql`lower(${t.userName})`),
    index('scim_users_team_id_external_id_idx').on(t.teamId, t.externalId),
    index('scim_users_user_id_idx').on(t.userId),
  ],
);

/** A group of a team's directory (scim module); `displayName` unique per team, ignoring case. */
export const scimGroups = pgTable(
  'scim_groups',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    displayName: varchar('display_name', { length: 255 }).notNull(),
    externalId: varchar('external_id', { length: 255 }),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at').notNull().defaultNow(),
    updatedAt: timestamp('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('scim_groups_team_id_display_name_key').on(t.teamId, sql`lower(${t.displayName})`),
  ],
);

/** Members of a directory group: users of the same team's directory. */
export const scimGroupMembers = pgTable(
  'scim_group_members',
  {
    groupId: uuid('group_id')
      .notNull()
      .references(() => scimGroups.id, { onDelete: 'cascade' }),
    scimUserId: uuid('scim_user_id')
      .notNull()
      .references(() => scimUsers.id, { onDelete: 'cascade' }),
  },
  (t) => [
    primaryKey({ columns: [t.groupId, t.scimUserId] }),
    index('scim_group_members_scim_user_id_idx').on(t.scimUserId),
  ],
);

export type ScimToken = typeof scimTokens.$inferSelect;
export type ScimUser = typeof scimUsers.$inferSelect;
export type ScimGroup = typeof scimGroups.$inferSelect;

/**
 * A team's SAML 2.0 connection (owned by the sso module; at most one per team). The serial id
 * appears in the SP's public URLs (entity id, ACS, metadata): API.md's ids are integers, and
 * an id reveals nothing a caller could not read from the metadata it names. `disabled_at`: set
 * by a back-office admin; a disabled connection signs nobody in and enforces nothing.
 */
export const ssoConnections = pgTable('sso_connections', {
  id: serial('id').primaryKey(),
  teamId: integer('team_id')
    .notNull()
    .unique()
    .references(() => teams.id, { onDelete: 'cascade' }),
  idpEntityId: text('idp_entity_id').notNull(),
  /** The IdP's SingleSignOnService with the HTTP-Redirect binding. */
  idpSsoUrl: text('idp_sso_url').notNull(),
  /** PEM signing certificates from the IdP's metadata (more than one during a rollover). */
  idpCertificates: text('idp_certificates').array().notNull(),
  enforced: boolean('enforced').notNull().default(false),
  disabledAt: timestamp('disabled_at'),
  createdAt: timestamp('created_at').notNull().defaultNow(),
  updatedAt: timestamp('updated_at').notNull().defaultNow(),
});

/** AuthnRequests this app issued (sso module): single use, valid 10 minutes. */
export const samlRequests = pgTable(
  'saml_requests',
  {
    id: varchar('id', { length: 100 }).primaryKey(),
    connectionId: integer('connection_id')
      .notNull()
      .references(() => ssoConnections.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [index('saml_requests_created_at_idx').on(t.createdAt)],
);

/** Assertion ids accepted at an ACS (sso module), kept until they expire: replays are refused. */
export const samlAssertions = pgTable(
  'saml_assertions',
  {
    connectionId: integer('connection_id')
      .notNull()
      .references(() => ssoConnections.id, { onDelete: 'cascade' }),
    assertionId: varchar('assertion_id', { length: 256 }).notNull(),
    expiresAt: timestamp('expires_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.connectionId, t.assertionId] }),
    index('saml_assertions_expires_at_idx').on(t.expiresAt),
  ],
);

export type SsoConnection = typeof ssoConnections.$inferSelect;

export enum ActivityType {
  SIGN_UP = 'SIGN_UP',
  SIGN_IN = 'SIGN_IN',
  SIGN_OUT = 'SIGN_OUT',
  UPDATE_PASSWORD = 'UPDATE_PASSWORD',
  DELETE_ACCOUNT = 'DELETE_ACCOUNT',
  UPDATE_ACCOUNT = 'UPDATE_ACCOUNT',
  CREATE_TEAM = 'CREATE_TEAM',
  REMOVE_TEAM_MEMBER = 'REMOVE_TEAM_MEMBER',
  INVITE_TEAM_MEMBER = 'INVITE_TEAM_MEMBER',
  ACCEPT_INVITATION = 'ACCEPT_INVITATION',
  // Back-office changes from the admin panel; userId is the admin who made them.
  ADMIN_UPDATE_TEAM = 'ADMIN_UPDATE_TEAM',
  ADMIN_ADD_TEAM_MEMBER = 'ADMIN_ADD_TEAM_MEMBER',
  ADMIN_UPDATE_TEAM_MEMBER = 'ADMIN_UPDATE_TEAM_MEMBER',
  ADMIN_REMOVE_TEAM_MEMBER = 'ADMIN_REMOVE_TEAM_MEMBER',
  ADMIN_REVOKE_INVITATION = 'ADMIN_REVOKE_INVITATION',
  ADMIN_DELETE_USER = 'ADMIN_DELETE_USER',
  // Support actions (issue 16), logged against each team of the user they concern.
  ADMIN_RESEND_VERIFICATION = 'ADMIN_RESEND_VERIFICATION',
  ADMIN_REVOKE_SESSIONS = 'ADMIN_REVOKE_SESSIONS',
  ADMIN_DISABLE_MFA = 'ADMIN_DISABLE_MFA',
  // v1.1 (API.md "v1.1 additions"). UPDATE_SUBSCRIPTION rows come from Stripe (webhook,
  // checkout redirect): no signed-in user, so their userId is null.
  VERIFY_EMAIL = 'VERIFY_EMAIL',
  UPDATE_TEAM = 'UPDATE_TEAM',
  UPDATE_TEAM_MEMBER = 'UPDATE_TEAM_MEMBER',
  REVOKE_INVITATION = 'REVOKE_INVITATION',
  DECLINE_INVITATION = 'DECLINE_INVITATION',
  REVOKE_SESSION = 'REVOKE_SESSION',
  ENABLE_MFA = 'ENABLE_MFA',
  DISABLE_MFA = 'DISABLE_MFA',
  CREATE_API_KEY = 'CREATE_API_KEY',
  REVOKE_API_KEY = 'REVOKE_API_KEY',
  CREATE_WEBHOOK = 'CREATE_WEBHOOK',
  UPDATE_WEBHOOK = 'UPDATE_WEBHOOK',
  DELETE_WEBHOOK = 'DELETE_WEBHOOK',
  UPDATE_SUBSCRIPTION = 'UPDATE_SUBSCRIPTION',
  // A provider identity (OpenID Connect) removed from an account: by the password reset that
  // proved the mailbox, for identities linked before the address was verified.
  UNLINK_OIDC_IDENTITY = 'UNLINK_OIDC_IDENTITY',
  // v1.2 (API.md "v1.2 additions"), in the contract's order.
  CANCEL_SUBSCRIPTION = 'CANCEL_SUBSCRIPTION',
  RESUME_SUBSCRIPTION = 'RESUME_SUBSCRIPTION',
  ADD_DOMAIN = 'ADD_DOMAIN',
  VERIFY_DOMAIN = 'VERIFY_DOMAIN',
  REMOVE_DOMAIN = 'REMOVE_DOMAIN',
  CREATE_SSO_CONNECTION = 'CREATE_SSO_CONNECTION',
  UPDATE_SSO_CONNECTION = 'UPDATE_SSO_CONNECTION',
  DELETE_SSO_CONNECTION = 'DELETE_SSO_CONNECTION',
  CREATE_SCIM_TOKEN = 'CREATE_SCIM_TOKEN',
  REVOKE_SCIM_TOKEN = 'REVOKE_SCIM_TOKEN',
  SCIM_PROVISION_USER = 'SCIM_PROVISION_USER',
  SCIM_DEPROVISION_USER = 'SCIM_DEPROVISION_USER',
}

export const TEAM_ROLES = ['owner', 'member'] as const;
export type TeamRole = (typeof TEAM_ROLES)[number];

/** `admin`: the back office with full rights; `support`: the back office read-only. */
export const SYSTEM_ROLES = ['member', 'admin', 'support'] as const;
export type SystemRole = (typeof SYSTEM_ROLES)[number];

/** `expired`: pending past its 7 days, marked by the hourly housekeeping job (or on re-invite). */
export const INVITATION_STATUSES = [
  'pending',
  'accepted',
  'declined',
  'revoked',
  'expired',
] as const;
export type InvitationStatus = (typeof INVITATION_STATUSES)[number];

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];
