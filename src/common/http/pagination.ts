import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { CommonErrors } from '../errors/common.errors.js';
import type { FeedCursor } from '../../database/keyset.js';
import { MAX_ID, parseId } from '../ids.js';

/** `?limit=` (1..100, default 20) and an opaque `?cursor=`. */
export class PageQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;

  @ApiPropertyOptional({
    maxLength: 200,
    description: "Opaque cursor from a previous page's `nextCursor`",
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Cursor of a list ordered by id alone (newest first: the teams list, the invitation lists).
 * It is the base64url of the last row's id: paging by id is exact, so no timestamp is needed.
 */
export function encodeIdCursor(id: number): string {
  return Buffer.from(String(id)).toString('base64url');
}

/**
 * The id after which the next page starts; throws a 400 `request.invalid_cursor` for anything
 * that is not a cursor we issued.
 *
 * Legacy format: until v1.1 these lists issued `<ISO timestamp>|<id>` cursors (the old
 * `encodeTimeCursor`), whose timestamp the queries never used. Clients may still hold such a
 * cursor (from a page fetched just before the upgrade), so for one release they are still
 * accepted, validated exactly as before, and their timestamp is ignored. REMOVAL PLAN: in the
 * release after v1.1, drop the `|` branch below (and `decodeLegacyTimeCursor`); an old cursor
 * then gets the 400 `request.invalid_cursor` like any other malformed one.
 */
export function decodeIdCursor(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const text = Buffer.from(raw, 'base64url').toString('utf8');
  if (text.includes('|')) return decodeLegacyTimeCursor(text);
  const id = parseId(text);
  if (id === undefined) throw CommonErrors.invalidCursor();
  return id;
}

/** The id of a legacy `<ISO timestamp>|<id>` cursor, checked as the old decoder did. */
function decodeLegacyTimeCursor(text: string): number {
  const [iso, id] = text.split('|');
  const at = new Date(iso ?? '');
  const n = Number(id);
  // Ids beyond int4 would reach PostgreSQL as an out-of-range integer (a 500).
  if (Number.isNaN(at.getTime()) || !Number.isSafeInteger(n) || n < 1 || n > MAX_ID)
    throw CommonErrors.invalidCursor();
  return n;
}

// The keyset position of an activity feed is defined beside the SQL that reads it.
export type { FeedCursor } from '../../database/keyset.js';

const EXACT_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}$/;

/** Whether `at` names a real instant PostgreSQL accepts (so a forged cursor is a 400, not a 500). */
function isExactTimestamp(at: string): boolean {
  const m = EXACT_TIMESTAMP.exec(at);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  date.setUTCFullYear(year);
  return (
    year >= 1 &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second
  );
}

export function encodeFeedCursor(cursor: FeedCursor): string {
  return Buffer.from(`${cursor.at}|${cursor.id}`).toString('base64url');
}

/** Throws a 400 `request.invalid_cursor` for anything that is not a feed cursor we issued. */
export function decodeFeedCursor(raw: string | undefined): FeedCursor | undefined {
  if (raw === undefined) return undefined;
  const parts = Buffer.from(raw, 'base64url').toString('utf8').split('|');
  const [at, rawId] = parts;
  const id = parseId(rawId);
  if (parts.length !== 2 || at === undefined || !isExactTimestamp(at) || id === undefined) {
    throw CommonErrors.invalidCursor();
  }
  return { at, id };
}

/**
 * Builds a page from `limit + 1` rows: the extra row only tells that a next page exists.
 * `cursorOf` encodes the position of the page's last row (`encodeIdCursor`, `encodeFeedCursor`).
 */
export function toPage<T, R>(
  rows: R[],
  limit: number,
  map: (row: R) => T,
  cursorOf: (row: R) => string,
): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items: items.map(map),
    nextCursor: rows.length > limit && last !== undefined ? cursorOf(last) : null,
  };
}
