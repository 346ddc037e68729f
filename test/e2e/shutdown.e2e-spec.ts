import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Inject, Module } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { sql } from 'drizzle-orm';
import { setTimeout as sleep } from 'node:timers/promises';
import { Public } from '../../src/common/decorators/public.decorator.js';
import { DRIZZLE, type Database } from '../../src/database/database.tokens.js';
import { createTestApp } from '../support/app.js';

let entered: () => void = () => undefined;

/** A slow route that still needs the database after shutdown has begun. */
// Test-only: not part of the API contract, so not in the OpenAPI document.
@ApiExcludeController()
@Public()
@Controller('slow-probe')
class SlowProbeController {
  constructor(@Inject(DRIZZLE) private readonly db: Database) {}

  @Get()
  async slow(): Promise<{ answer: number }> {
    entered();
    await sleep(300);
    const result = await this.db.execute<{ answer: number }>(sql`select 42 as answer`);
    return { answer: Number(result.rows[0]?.answer) };
  }
}

@Module({ controllers: [SlowProbeController] })
class SlowProbeModule {}

describe('graceful shutdown', () => {
  it('finishes an in-flight request (database included) before closing the pool', async () => {
    const t = await createTestApp({ imports: [SlowProbeModule] });
    await new Promise<void>((resolve) => t.app.getHttpServer().listen(0, '127.0.0.1', resolve));
    const { port } = t.app.getHttpServer().address() as { port: number };
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const response = fetch(`http://127.0.0.1:${port}/api/v1/slow-probe`);
    await inside;
    const closed = t.close();
    const res = await response;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ answer: 42 });
    await closed;
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });
});
