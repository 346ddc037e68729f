import { Module } from '@nestjs/common';
import { ActivityController } from './activity.controller.js';
import { AuditRepository } from './audit.repository.js';
import { AuditService } from './audit.service.js';

@Module({
  controllers: [ActivityController],
  providers: [AuditRepository, AuditService],
  exports: [AuditService],
})
export class AuditModule {}
