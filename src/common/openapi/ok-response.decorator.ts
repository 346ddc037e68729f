import { applyDecorators, type Type } from '@nestjs/common';
import { RouteSchema } from '@nestjs/platform-fastify';
import { ApiOkResponse, DECORATORS, type ApiResponseOptions } from '@nestjs/swagger';

/** The JSON Schema subset fast-json-stringify is given: types, date-time, objects, arrays. */
export interface SerializerSchema {
  type: string | string[];
  format?: 'date-time';
  properties?: Record<string, SerializerSchema>;
  items?: SerializerSchema;
}

/** What @ApiProperty stores per property (the parts read here). */
interface PropertyMetadata {
  type?: unknown;
  isArray?: boolean;
  nullable?: boolean;
  format?: string;
  enum?: unknown;
}

const PRIMITIVES = new Map<unknown, string>([
  ['integer', 'integer'],
  ['number', 'number'],
  [Number, 'number'],
  ['string', 'string'],
  [String, 'string'],
  ['boolean', 'boolean'],
  [Boolean, 'boolean'],
]);

/** An @ApiProperty enum's values: an array, a TypeScript enum, or a function returning one. */
function enumValues(values: unknown): unknown[] {
  if (Array.isArray(values)) return values;
  if (typeof values === 'function') return enumValues((values as () => unknown)());
  if (values !== null && typeof values === 'object') return Object.values(values);
  return [values];
}

const prototypeOf = (model: Type<unknown>): object => model.prototype as object;

function isModel(type: unknown): type is Type<unknown> {
  return (
    typeof type === 'function' &&
    Reflect.getMetadata(
      DECORATORS.API_MODEL_PROPERTIES_ARRAY,
      prototypeOf(type as Type<unknown>),
    ) !== undefined
  );
}

function propertySchema(model: Type<unknown>, key: string): SerializerSchema {
  const where = `${model.name}.${key}`;
  const meta = (Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES, prototypeOf(model), key) ??
    {}) as PropertyMetadata;
  // Like @nestjs/swagger: the declared type, else the one TypeScript emitted for the property.
  let type: unknown = meta.type ?? Reflect.getMetadata('design:type', prototypeOf(model), key);
  let isArray = meta.isArray === true;
  if (Array.isArray(type)) {
    isArray = true;
    type = type[0];
  }
  let schema: SerializerSchema;
  if (meta.enum !== undefined) {
    // Enums here are all of strings (roles, activity types): anything else is refused below.
    if (!enumValues(meta.enum).every((value) => typeof value === 'string')) {
      throw new Error(`${where}: only enums of strings are serialized by schema`);
    }
    schema = { type: 'string' };
  } else if (type === Date || (meta.format === 'date-time' && PRIMITIVES.get(type) === 'string')) {
    schema = { type: 'string', format: 'date-time' };
  } else if (PRIMITIVES.has(type) && meta.format === undefined) {
    schema = { type: PRIMITIVES.get(type)! };
  } else if (isModel(type)) {
    schema = objectSchema(type);
  } else {
    throw new Error(`${where}: its @ApiProperty type is not one serialized by schema`);
  }
  if (isArray) schema = { type: 'array', items: schema };
  if (meta.nullable === true) schema = { ...schema, type: [schema.type as string, 'null'] };
  return schema;
}

function objectSchema(model: Type<unknown>): SerializerSchema {
  const keys = (
    Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES_ARRAY, prototypeOf(model)) as string[]
  ).map((key) => key.slice(1));
  const properties: Record<string, SerializerSchema> = {};
  for (const key of keys) properties[key] = propertySchema(model, key);
  return { type: 'object', properties };
}

/**
 * The JSON Schema of a response DTO, read from the same @ApiProperty metadata the OpenAPI
 * document is built from: its properties with their types, `date-time` strings (a Date is
 * written as its ISO string, as JSON.stringify does), nested DTOs, arrays and nullability.
 * Throws for anything else (a number format, an enum of numbers, a type with no DTO), so a
 * route cannot get a serializer that disagrees with its documented response.
 */
export function responseSchemaOf(model: Type<unknown>): SerializerSchema {
  if (!isModel(model)) throw new Error(`${String(model)} has no @ApiProperty`);
  return objectSchema(model);
}

/**
 * The route's 200 response: documented as `type` (ApiOkResponse) and written by Fastify's
 * schema-based serializer (fast-json-stringify) compiled from the same DTO, instead of
 * `JSON.stringify`. A compiled serializer writes each documented property directly, a few
 * times faster than JSON.stringify for our DTOs (Dates especially), and writes only the
 * documented properties: a field the DTO does not declare never leaves the server. Used on
 * the hot reads (bench/RESULTS.md item 25). Other statuses (errors) are written as before.
 */
export function ApiOkJson(
  type: Type<unknown>,
  options: Omit<ApiResponseOptions, 'type'> = {},
): MethodDecorator {
  const schema = responseSchemaOf(type);
  serializedResponses.set(type, schema);
  return applyDecorators(
    ApiOkResponse({ ...options, type }),
    RouteSchema({ response: { 200: schema } }),
  );
}

const serializedResponses = new Map<Type<unknown>, SerializerSchema>();

/**
 * Every DTO an `@ApiOkJson` route is serialized by, with its schema: the OpenAPI contract test
 * checks each against the document's schema of the same DTO.
 */
export function schemaSerializedResponses(): ReadonlyMap<Type<unknown>, SerializerSchema> {
  return serializedResponses;
}
