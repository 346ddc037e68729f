import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module.js';
import { UsersController } from './users.controller.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';

/** Owns `users`. Exports its service only: other modules never query the table themselves. */
@Module({
  imports: [AccessModule],
  controllers: [UsersController],
  providers: [UsersRepository, UsersService],
  exports: [UsersService],
})
export class UsersModule {}
