import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import type { ActivityType } from '../../database/schema.js';
import { ACTIVITY_RECORDED_BY } from './audit-policy.js';
import { AuditInterceptor } from './audit.interceptor.js';

export const AUDIT_KEY = 'auditAction';

/**
 * Records `action` for the signed-in user after the handler succeeds (see AuditInterceptor
 * for the team rule). Only for types that ACTIVITY_RECORDED_BY assigns to the interceptor.
 *
 * The interceptor runs on these routes only, not globally: a route without any interceptor
 * skips Nest's rxjs wrapping of the handler altogether, which every other request (all the
 * reads) would otherwise pay for.
 */
export function Audit(action: ActivityType): MethodDecorator {
  if (ACTIVITY_RECORDED_BY[action] !== 'interceptor') {
    throw new Error(
      `@Audit(${action}): ${action} is written by its service inside the transaction (see audit-policy.ts)`,
    );
  }
  return applyDecorators(SetMetadata(AUDIT_KEY, action), UseInterceptors(AuditInterceptor));
}
