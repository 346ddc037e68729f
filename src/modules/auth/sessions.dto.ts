import { ApiProperty } from '@nestjs/swagger';
import type { SessionListRow } from './sessions.repository.js';

/** One signed-in device of mine. */
export class SessionDto {
  @ApiProperty({
    format: 'uuid',
    example: '3f1c2b9e-8d4a-4c7e-9a51-2b6f0c8d7e21',
    description:
      "The session id (the access token's `sid`); use it in DELETE /users/me/sessions/{sessionId}",
  })
  id!: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    description: 'When the session was opened (sign-in)',
  })
  createdAt!: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    description:
      'Last request made with its tokens (or its last refresh), to within a minute: it is written at most once a minute per session',
  })
  lastUsedAt!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '203.0.113.7',
    description: 'Client address at sign-in',
  })
  ipAddress!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
    description: 'User-Agent at sign-in (the device), first 500 characters',
  })
  userAgent!: string | null;

  @ApiProperty({ description: 'This is the session making the request' })
  current!: boolean;

  static from(row: SessionListRow, currentSessionId: string): SessionDto {
    return {
      id: row.id,
      createdAt: row.createdAt.toISOString(),
      lastUsedAt: row.lastUsedAt.toISOString(),
      ipAddress: row.ipAddress,
      userAgent: row.userAgent,
      current: row.id === currentSessionId,
    };
  }
}
