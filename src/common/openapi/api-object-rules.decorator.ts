import type { SchemaObject } from '@nestjs/swagger';

const rules = new Map<string, Partial<SchemaObject>>();

/**
 * Object-level schema rules of a DTO that `@ApiProperty` cannot express (e.g. `minProperties`
 * for "send at least one field"); applied to the DTO's component schema when the document is
 * built (finalizeOpenApiDocument).
 */
export function ApiObjectRules(schema: Partial<SchemaObject>): ClassDecorator {
  return (target) => {
    rules.set(target.name, schema);
  };
}

export function objectRules(): ReadonlyMap<string, Partial<SchemaObject>> {
  return rules;
}
