import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, NotFoundException, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiProperty } from '@nestjs/swagger';
import { ApiOkJson, responseSchemaOf } from './ok-response.decorator.js';

class OwnerDto {
  @ApiProperty({ type: 'integer' }) id!: number;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
}

class ItemDto {
  @ApiProperty({ type: 'integer' }) id!: number;
  @ApiProperty({ enum: ['a', 'b'] }) kind!: string;
  @ApiProperty({ type: String, format: 'date-time' }) at!: Date;
  @ApiProperty() done!: boolean;
  @ApiProperty() score!: number;
  @ApiProperty({ type: OwnerDto, nullable: true }) owner!: OwnerDto | null;
}

class PageDto {
  @ApiProperty({ type: [ItemDto] }) items!: ItemDto[];
  @ApiProperty({ type: String, nullable: true }) next!: string | null;
}

class ExtendedPageDto extends PageDto {
  @ApiProperty({ type: 'integer' }) total!: number;
}

const at = new Date('2030-01-02T03:04:05.678Z');
/** What a service returns: one field more than the DTO declares (as a leaked column would be). */
const page = {
  items: [
    { id: 1, kind: 'a', at, done: true, score: 1.5, owner: { id: 7, name: null, secret: 'x' } },
    { id: 2, kind: 'b', at, done: false, score: 0, owner: null, passwordHash: 'y' },
  ],
  next: null,
  total: 2,
};

@Controller()
class SampleController {
  @Get('page')
  @ApiOkJson(ExtendedPageDto)
  page(): unknown {
    return page;
  }

  @Get('missing')
  @ApiOkJson(PageDto)
  missing(): unknown {
    throw new NotFoundException('nothing here');
  }
}

@Module({ controllers: [SampleController] })
class SampleModule {}

describe('ApiOkJson: a route written by the schema of its documented DTO', () => {
  it('reads the schema from @ApiProperty: types, date-time, enums, nested DTOs, arrays, nullability, inherited properties', () => {
    const owner = {
      type: ['object', 'null'],
      properties: { id: { type: 'integer' }, name: { type: ['string', 'null'] } },
    };
    expect(responseSchemaOf(ExtendedPageDto)).toEqual({
      type: 'object',
      properties: {
        items: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              id: { type: 'integer' },
              kind: { type: 'string' },
              at: { type: 'string', format: 'date-time' },
              done: { type: 'boolean' },
              score: { type: 'number' },
              owner,
            },
          },
        },
        next: { type: ['string', 'null'] },
        total: { type: 'integer' },
      },
    });
  });

  it('refuses what it cannot write exactly as documented', () => {
    class NumberFormat {
      @ApiProperty({ type: Number, format: 'float' }) x!: number;
    }
    class NumericEnum {
      @ApiProperty({ enum: [1, 2] }) x!: number;
    }
    enum Level {
      Low = 1,
    }
    class LazyNumericEnum {
      @ApiProperty({ enum: () => Level, enumName: 'Level' }) x!: Level;
    }
    class Untyped {
      @ApiProperty() x!: Record<string, unknown>;
    }
    class Plain {
      x!: number;
    }
    expect(() => responseSchemaOf(NumberFormat)).toThrow('NumberFormat.x');
    expect(() => responseSchemaOf(NumericEnum)).toThrow('NumericEnum.x');
    expect(() => responseSchemaOf(LazyNumericEnum)).toThrow('LazyNumericEnum.x');
    expect(() => responseSchemaOf(Untyped)).toThrow('Untyped.x');
    expect(() => responseSchemaOf(Plain)).toThrow('has no @ApiProperty');
  });

  describe('on the Fastify adapter', () => {
    let app: INestApplication;
    let base: string;

    beforeAll(async () => {
      app = await NestFactory.create<NestFastifyApplication>(SampleModule, new FastifyAdapter(), {
        logger: false,
      });
      await app.listen(0, '127.0.0.1');
      base = await app.getUrl();
    });

    afterAll(async () => {
      await app.close();
    });

    const get = async (path: string) => {
      const res = await fetch(`${base}${path}`);
      return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
    };

    it('writes the documented properties only, Dates as ISO strings, nulls as null', async () => {
      const res = await get('/page');
      expect(res.status).toBe(200);
      expect(res.type).toBe('application/json; charset=utf-8');
      expect(JSON.parse(res.body)).toEqual({
        items: [
          {
            id: 1,
            kind: 'a',
            at: '2030-01-02T03:04:05.678Z',
            done: true,
            score: 1.5,
            owner: { id: 7, name: null },
          },
          { id: 2, kind: 'b', at: '2030-01-02T03:04:05.678Z', done: false, score: 0, owner: null },
        ],
        next: null,
        total: 2,
      });
      // Byte for byte what JSON.stringify writes for the documented fields.
      const { items, next, total } = page;
      const documented = {
        items: items.map(({ id, kind, at, done, score, owner }) => ({
          id,
          kind,
          at,
          done,
          score,
          owner: owner && { id: owner.id, name: owner.name },
        })),
        next,
        total,
      };
      expect(res.body).toBe(JSON.stringify(documented));
    });

    it('leaves other statuses (errors) to the default serializer', async () => {
      const res = await get('/missing');
      expect(res.status).toBe(404);
      expect(JSON.parse(res.body)).toMatchObject({ statusCode: 404, message: 'nothing here' });
    });
  });
});
