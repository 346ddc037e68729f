import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { CommonErrors } from '../errors/common.errors.js';

/** `?limit=` (1..100, default 20) and an opaque `?cursor=`. */
export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;

  @ApiPropertyOptional({ description: "Opaque cursor from a previous page's `nextCursor`" })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Keyset position for feeds ordered by (timestamp desc, id desc). */
export interface TimeCursor {
  at: Date;
  id: number;
}

export function encodeTimeCursor(cursor: TimeCursor): string {
  return Buffer.from(`${cursor.at.toISOString()}|${cursor.id}`).toString('base64url');
}

/** Throws a 400 `request.invalid_cursor` for anything that is not a cursor we issued. */
export function decodeTimeCursor(raw: string | undefined): TimeCursor | undefined {
  if (raw === undefined) return undefined;
  const [iso, id] = Buffer.from(raw, 'base64url').toString('utf8').split('|');
  const at = new Date(iso ?? '');
  const n = Number(id);
  if (Number.isNaN(at.getTime()) || !Number.isSafeInteger(n) || n < 1)
    throw CommonErrors.invalidCursor();
  return { at, id: n };
}

/** Builds a page from `limit + 1` rows: the extra row only tells that a next page exists. */
export function toPage<T, R>(
  rows: R[],
  limit: number,
  map: (row: R) => T,
  cursorOf: (row: R) => TimeCursor,
): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items: items.map(map),
    nextCursor: rows.length > limit && last !== undefined ? encodeTimeCursor(cursorOf(last)) : null,
  };
}
