import {
  CallHandler,
  ExecutionContext,
  Injectable,
  Logger,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { HttpRequest } from '../../common/http/http-request.js';
import { mergeMap, type Observable } from 'rxjs';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { clientIp } from '../../common/http/client-ip.js';
import { parseId } from '../../common/ids.js';
import type { ActivityType } from '../../database/schema.js';
import { AUDIT_KEY } from './audit.decorator.js';
import { AuditService } from './audit.service.js';

/**
 * Applied by `@Audit(type)` to its route (not global, see audit.decorator.ts): after the
 * handler succeeds, writes the row for the signed-in user. Team rule: the route's `:teamId`
 * when present, else the user's first team; no team, no row.
 * The response waits for the write (so a client reading its log sees the entry); a failed
 * write is logged and does not turn the already-committed change into an error.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger(AuditInterceptor.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const action = this.reflector.get<ActivityType | undefined>(AUDIT_KEY, context.getHandler());
    if (action === undefined || context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<HttpRequest & { user?: AuthUser }>();
    return next.handle().pipe(
      mergeMap(async (value: unknown) => {
        const user = request.user;
        if (user === undefined) return value;
        const teamId = parseId(request.params.teamId);
        try {
          await this.audit.write({ action, userId: user.id, teamId, ipAddress: clientIp(request) });
        } catch (error) {
          this.logger.error(
            { err: error, action, userId: user.id },
            'Could not write activity row',
          );
        }
        return value;
      }),
    );
  }
}
