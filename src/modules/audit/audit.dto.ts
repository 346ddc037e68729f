import { ApiProperty } from '@nestjs/swagger';
import { ActivityType, type ActivityLog } from '../../database/schema.js';

/** What `from`/`to` of a feed filter accept: a calendar date, or a date-time with an optional offset. */
export const CALENDAR_DATE_TIME =
  /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export class ActivityDto {
  @ApiProperty({ type: 'integer', example: 42 })
  id!: number;

  @ApiProperty({ enum: ActivityType, enumName: 'ActivityType', example: ActivityType.SIGN_IN })
  action!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  timestamp!: string;

  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' })
  ipAddress!: string | null;

  @ApiProperty({ type: 'integer', example: 7, description: 'The team the entry is logged against' })
  teamId!: number;

  static from(
    row: Pick<ActivityLog, 'id' | 'action' | 'timestamp' | 'ipAddress' | 'teamId'>,
  ): ActivityDto {
    return {
      id: row.id,
      action: row.action,
      timestamp: row.timestamp.toISOString(),
      ipAddress: row.ipAddress,
      teamId: row.teamId,
    };
  }
}

export class ActivityPageDto {
  @ApiProperty({ type: [ActivityDto] })
  items!: ActivityDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page' })
  nextCursor!: string | null;
}
