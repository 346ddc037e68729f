import type { AuthUser } from './auth-user.js';

/**
 * Who is calling a business operation. Every service method that acts on behalf of someone
 * takes an `Actor` first; the access layer checks it and the audit log records it as it is.
 *
 * - `user`: a signed-in user of the API (access token). Carries the whole principal.
 * - `admin`: a back-office staff member acting through `/admin` (a real user row with system
 *   role `admin`, or `support` for read-only staff). Never a fake user.
 * - `apiKey`: a team API key (`nsk_…`), an actor of exactly one team, limited to its scopes.
 *   Activity it writes names the key's creator as `userId` (API.md v1.1).
 */
export type Actor = UserActor | AdminActor | ApiKeyActor;

export interface UserActor extends AuthUser {
  kind: 'user';
}

export interface AdminActor {
  kind: 'admin';
  /** users.id of the staff member. */
  id: number;
  email: string;
  /** `admin` may write; `support` may only read (API.md v1.1, Back office). */
  role: 'admin' | 'support';
  ip: string | null;
}

/** Scopes a team API key may carry (API.md v1.1, Team API keys). */
export const API_KEY_SCOPES = [
  'team:read',
  'members:write',
  'invitations:write',
  'activity:read',
  'webhooks:write',
] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface ApiKeyActor {
  kind: 'apiKey';
  keyId: number;
  /** The only team this key may act on. */
  teamId: number;
  scopes: readonly ApiKeyScope[];
  /** users.id of the key's creator (null once that user is deleted); recorded as activity userId. */
  createdBy: number | null;
  ip: string | null;
}

/** Wraps the principal the auth guard attached to a request as a user actor. */
export function userActor(user: AuthUser): UserActor {
  return { ...user, kind: 'user' };
}

/** The users.id the audit log records for an actor's action (API.md: a key names its creator). */
export function actorUserId(actor: Actor): number | null {
  switch (actor.kind) {
    case 'user':
      return actor.id;
    case 'admin':
      return actor.id;
    case 'apiKey':
      return actor.createdBy;
  }
}
