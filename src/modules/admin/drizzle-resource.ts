import { ForbiddenError, type BaseRecord, type Filter } from 'adminjs';
import { Resource } from 'adminjs-drizzle/pg';
import { and, asc, count, desc, eq, gte, ilike, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Database } from '../../database/database.tokens.js';
import {
  apiKeys,
  passwordResetTokens,
  scimTokens,
  sessions,
  users,
  webhookEndpoints,
} from '../../database/schema.js';

/**
 * Columns that never leave the server. They are removed from the resource's properties, so
 * they are absent from every admin API response (list, show, search, populated references),
 * cannot be sorted or filtered by, and cannot be written. `isVisible: false` would hide them
 * in the UI only.
 */
const SECRET_COLUMNS: ReadonlySet<AnyPgColumn> = new Set<AnyPgColumn>([
  users.passwordHash,
  sessions.refreshTokenHash,
  passwordResetTokens.tokenHash,
  apiKeys.hash,
  scimTokens.hash,
  webhookEndpoints.secret,
  webhookEndpoints.previousSecret,
]);

type Property = ReturnType<Resource['properties']>[number];

export interface DrizzleResourceOptions {
  /** String columns matched exactly (enums such as role, status, action) instead of ILIKE. */
  exactMatch?: readonly string[];
}

const INTEGER = /^-?\d{1,15}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Drizzle column types stored as PostgreSQL int4. */
const INT4_COLUMNS: ReadonlySet<string> = new Set(['PgInteger', 'PgSerial']);
const INT4_MAX = 2_147_483_647;

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function asDate(value: unknown): Date | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * Read side of the admin panel over our Drizzle client.
 *
 * Why adminjs-drizzle and not @adminjs/sql: it reuses the app's pool (one pool, the embedded
 * database's URL never has to be handed around), it is plain ESM (loads under Jest), and its
 * properties come from our schema. Its weak spots are fixed here: `count` returned Postgres's
 * bigint count as a string (AdminJS then mis-paginates), text filters were case-sensitive
 * LIKE without escaping, a malformed number/uuid filter or an unknown sort column became a
 * database error, and secrets were part of every record.
 *
 * Writes are refused: every admin change goes through a custom action handler that calls the
 * owning module's service (rules, transaction, activity log). A default action left enabled by
 * mistake (bulk delete, new) therefore cannot bypass those rules.
 */
export class DrizzleResource extends Resource {
  private readonly exactMatch: ReadonlySet<string>;

  constructor(
    private readonly source: PgTable,
    private readonly client: Database,
    options: DrizzleResourceOptions = {},
  ) {
    super({ table: source as never, db: client as never });
    this.exactMatch = new Set(options.exactMatch ?? []);
  }

  protected override prepareProperties(): Record<string, Property> {
    const all = super.prepareProperties();
    for (const property of Object.values(all)) {
      // adminjs-drizzle knows no array columns (api_keys.scopes, text[]): it warns on every
      // render and returns no type. Show them as lists of strings, never sorted by.
      if (property.column.columnType === 'PgArray') {
        property.type = () => 'string';
        property.isArray = () => true;
        property.isSortable = () => false;
      }
    }
    return Object.fromEntries(
      Object.entries(all).filter(([, property]) => !SECRET_COLUMNS.has(property.column)),
    );
  }

  /**
   * The property at `path`, own properties only: adminjs-drizzle looks `path` up in a plain
   * object, so `__proto__`, `constructor` or `toString` (a sort key, a filter) found
   * Object.prototype's members and failed as a TypeError (500).
   */
  override property(path: string): Property {
    const own = this.properties().find((property) => property.path() === path);
    // adminjs-drizzle's signature says Property; AdminJS's BaseResource says null when none.
    return own ?? (null as unknown as Property);
  }

  override async count(filter: Filter): Promise<number> {
    const [row] = await this.client
      .select({ n: count() })
      .from(this.source)
      .where(this.where(filter));
    return Number(row?.n ?? 0);
  }

  override async find(
    filter: Filter,
    params: {
      limit?: number;
      offset?: number;
      sort?: { sortBy?: string; direction?: string };
    } = {},
  ): Promise<BaseRecord[]> {
    const { limit = 10, offset = 0, sort = {} } = params;
    const id = this.properties().find((p) => p.isId());
    const sortProperty =
      (sort.sortBy === undefined ? undefined : this.property(sort.sortBy)) ?? id ?? undefined;
    const order = sort.direction === 'asc' ? asc : desc;
    const orderBy: SQL[] = [];
    if (sortProperty?.isSortable()) orderBy.push(order(sortProperty.column));
    // A unique tie-breaker keeps offset pages stable when the sort column has duplicates.
    if (id && id !== sortProperty) orderBy.push(order(id.column));
    const rows = await this.client
      .select()
      .from(this.source)
      .where(this.where(filter))
      .orderBy(...orderBy)
      .offset(Math.max(0, Number(offset) || 0))
      .limit(Math.min(500, Math.max(1, Number(limit) || 10)));
    return rows.map((row) => this.build(this.prepareResult(row as Record<string, unknown>)));
  }

  /**
   * The records `filter` selects (the list's own filter semantics), newest id first, in keyset
   * batches of `batchSize`: one short query per batch (`id < last id of the previous batch`),
   * so an export never holds all rows nor a pooled connection between batches. Only `paths`
   * are read, and only resource properties can be named: secret columns are not properties.
   */
  async *batches(
    filter: Filter,
    paths: readonly string[],
    batchSize: number,
  ): AsyncGenerator<Record<string, unknown>[]> {
    const id = this.properties().find((p) => p.isId());
    if (!id || id.type() !== 'number') throw new Error(`${this.id()}: no integer id to page by`);
    const columns: Record<string, AnyPgColumn> = {};
    for (const path of paths) {
      const property = this.property(path) as Property | undefined;
      if (!property) throw new Error(`${this.id()}: "${path}" is not an exportable property`);
      columns[path] = property.column;
    }
    const idColumn = id.column;
    const where = this.where(filter);
    let after: number | undefined;
    for (;;) {
      const rows = (await this.client
        .select({ ...columns, __id: idColumn })
        .from(this.source)
        .where(and(where, after === undefined ? undefined : lt(idColumn, after)))
        .orderBy(desc(idColumn))
        .limit(batchSize)) as (Record<string, unknown> & { __id: number })[];
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.__id;
      yield rows.map(({ __id: _omit, ...row }) => row);
      if (rows.length < batchSize) return;
    }
  }

  /** An id that is not even of the id column's type matches no record (not a database error). */
  override async findOne(id: string): Promise<BaseRecord | null> {
    return this.idValue(id) === undefined ? null : super.findOne(id);
  }

  override async findMany(ids: (string | number)[]): Promise<BaseRecord[]> {
    const valid = ids.filter((id) => this.idValue(id) !== undefined);
    return valid.length === 0 ? [] : super.findMany(valid);
  }

  override create(): Promise<Record<string, unknown>> {
    return Promise.reject(new ForbiddenError('Records are created through the admin actions'));
  }

  override update(): Promise<Record<string, unknown>> {
    return Promise.reject(new ForbiddenError('Records are changed through the admin actions'));
  }

  override delete(): Promise<void> {
    return Promise.reject(new ForbiddenError('Records are deleted through the admin actions'));
  }

  private where(filter: Filter | undefined): SQL | undefined {
    if (!filter) return undefined;
    const conditions: SQL[] = [];
    for (const { path, value } of Object.values(filter.filters)) {
      // Unknown or secret paths are ignored rather than turned into a database error.
      const property = this.property(path) as Property | undefined;
      if (!property) continue;
      const condition = this.condition(property, value);
      if (condition) conditions.push(condition);
    }
    return conditions.length > 0 ? and(...conditions) : undefined;
  }

  private idValue(id: unknown): number | string | undefined {
    const property = this.properties().find((p) => p.isId());
    return property ? this.columnValue(property, String(id)) : undefined;
  }

  /**
   * `value` as the number or uuid `property`'s column can hold; undefined when PostgreSQL
   * would reject it (not a number, beyond int4, not a uuid), so it can match nothing.
   */
  private columnValue(property: Property, value: unknown): number | string | undefined {
    if (typeof value !== 'string') return undefined;
    const type = property.type();
    if (type === 'uuid') return UUID.test(value) ? value : undefined;
    if (type !== 'number' && type !== 'reference') return value;
    if (!INTEGER.test(value)) return undefined;
    const n = Number(value);
    return INT4_COLUMNS.has(property.column.columnType) && Math.abs(n) > INT4_MAX ? undefined : n;
  }

  private condition(property: Property, value: unknown): SQL | undefined {
    const column = property.column;
    // An array column matches records that contain the value exactly (e.g. one scope).
    if (property.isArray()) {
      return typeof value === 'string' && value !== '' ? sql`${value} = any(${column})` : undefined;
    }
    switch (property.type()) {
      case 'number':
      case 'reference':
      case 'uuid': {
        const matched = this.columnValue(property, value);
        return matched === undefined ? sql`false` : eq(column, matched);
      }
      case 'date':
      case 'datetime': {
        if (typeof value !== 'object' || value === null) return undefined;
        const range = value as { from?: unknown; to?: unknown };
        const from = asDate(range.from);
        const to = asDate(range.to);
        const parts = [from && gte(column, from), to && lte(column, to)].filter(
          (c): c is SQL => c !== undefined,
        );
        return parts.length > 0 ? and(...parts) : undefined;
      }
      case 'boolean':
        return value === 'true' || value === 'false' ? eq(column, value === 'true') : undefined;
      case 'currency':
      case 'float':
      case 'key-value':
      case 'mixed':
        // No column of ours maps to these.
        return undefined;
      case 'string':
      case 'textarea':
      case 'richtext':
      case 'phone':
      case 'password': {
        if (typeof value !== 'string' || value === '') return undefined;
        return this.exactMatch.has(property.path())
          ? eq(column, value)
          : ilike(column, `%${escapeLike(value)}%`);
      }
    }
  }
}
