// When a pending invitation stops counting: defined here, below the invitations module, so the
// plan usage (members + pending invitations against max_members) counts exactly the
// invitations that module still treats as pending. invitation-token.ts re-exports it.

/** Invitations (and their tokens) expire this long after `invitedAt`. */
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** Invitations sent at or before this instant have expired by `now`. */
export function invitationExpiryCutoff(now: Date): Date {
  return new Date(now.getTime() - INVITATION_TTL_MS);
}
