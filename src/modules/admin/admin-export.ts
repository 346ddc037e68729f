import { Logger } from '@nestjs/common';
import {
  Filter,
  ForbiddenError,
  flat,
  type Action,
  type ActionContext,
  type ActionRequest,
  type ActionResponse,
} from 'adminjs';
import { stringify } from 'csv-stringify/sync';
import type { FastifyReply } from 'fastify';
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { canReadBackOffice } from './admin-access.js';
import type { AdminSessionUser } from './admin-auth.service.js';
import type { DrizzleResource } from './drizzle-resource.js';

/** Rows per keyset query of an export (admin list pages show at most 500 too). */
export const EXPORT_BATCH_SIZE = 500;
export const EXPORT_ACTION = 'exportCsv' as const;

const logger = new Logger('AdminExport');

/**
 * Where a spreadsheet would start a formula (OWASP "CSV injection"): a formula character
 * (`=`, `+`, `-`, `@`) that begins a piece of the cell, after any whitespace a spreadsheet may
 * trim (tab, CR, LF, spaces). A piece begins at the cell's start and after every delimiter a
 * spreadsheet may split the cell on: the locale's list separator (`,` or `;`, opened with a
 * double click), tab and pipe (import dialogs), and line breaks. Space and custom separators are
 * choices in an import dialog that would also split ordinary text; they are not covered.
 */
const FORMULA_IN_PIECE = /(?<=(?:^|[,;\t|\r\n])\s*)(?=[=+\-@])/g;

/**
 * A text cell made inert for spreadsheets: a quote before every formula character that begins a
 * piece of it (`x;=1+1` → `x;'=1+1`, `=1+1` → `'=1+1`), so no piece, however the cell is split,
 * starts with a formula. Right before the formula character, not at the cell's start: a quote
 * at the start does not reach the pieces after a delimiter, and a spreadsheet hides the quote
 * that starts a cell, so a cell that is one formula (the common case) reads as it was. Other
 * text (`a=b`, `a - b`, `Doe, Jane`, a lone tab) stays as it is.
 */
export function defuseCell(value: string): string {
  return value.replace(FORMULA_IN_PIECE, "'");
}

/**
 * Rows as RFC 4180 CSV (CRLF, fields with a comma, quote or line break quoted, quotes
 * doubled: csv-stringify), text cells defused; dates as ISO 8601 UTC, null as empty.
 */
export function csvChunk(
  rows: Record<string, unknown>[],
  columns: readonly string[],
  header: boolean,
): string {
  return stringify(rows, {
    header,
    columns: columns.map((key) => ({ key, header: key })),
    record_delimiter: 'windows',
    cast: {
      string: (value) => defuseCell(value),
      date: (value) => value.toISOString(),
      boolean: (value) => String(value),
      object: (value) => defuseCell(JSON.stringify(value)),
    },
  });
}

/** AdminJS's own query parsing (the list action's): `filters.email=x` → `{ filters: { email } }`. */
const unflattenQuery = flat.unflatten as unknown as (query: Record<string, unknown>) => {
  filters?: Record<string, unknown>;
};

/** Waits until `res` can take more (or the client went away: then false). */
async function drained(res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return false;
  // Both listeners go when one fires (no listener piles up over thousands of batches).
  const done = new AbortController();
  const options = { signal: done.signal };
  try {
    return await Promise.race([
      once(res, 'drain', options).then(
        () => true,
        () => false,
      ),
      once(res, 'close', options).then(
        () => false,
        () => false,
      ),
    ]);
  } finally {
    done.abort();
  }
}

/**
 * Streams the records the list's filter query parameters (`filters.*`, exactly what the list
 * page has in its URL) select, as CSV, newest first. Batches are written as they come, waiting
 * for the socket to drain (backpressure), so memory holds one batch whatever the size.
 */
async function streamCsv(
  resource: DrizzleResource,
  resourceId: string,
  columns: readonly string[],
  request: ActionRequest,
  reply: FastifyReply,
  admin: AdminSessionUser | undefined,
): Promise<void> {
  const { filters = {} } = unflattenQuery((request.query ?? {}) as Record<string, unknown>);
  const filter = new Filter(filters, resource);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  // Streamed on the Node response, outside Fastify's reply (which sends one payload).
  void reply.hijack();
  const res = reply.raw;
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/csv; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="${resourceId}-${stamp}.csv"`);
  res.setHeader('Cache-Control', 'no-store');
  let rows = 0;
  let header = true;
  try {
    for await (const batch of resource.batches(filter, columns, EXPORT_BATCH_SIZE)) {
      rows += batch.length;
      if (!res.write(csvChunk(batch, columns, header)) && !(await drained(res))) return;
      header = false;
    }
    // No rows at all: still the header line.
    if (header) res.write(csvChunk([], columns, true));
    res.end();
    // Back-office reads of personal data concern no team: they go to the log, as sign-ins do.
    logger.log(
      { adminId: admin?.id, resource: resourceId, rows, filters: Object.keys(filter.filters) },
      'back-office CSV export',
    );
  } catch (error) {
    // Headers are gone: a cut transfer (no final chunk) is how the client learns it failed.
    logger.error({ resource: resourceId, err: error }, 'back-office CSV export failed');
    res.destroy(error instanceof Error ? error : new Error('export failed'));
  }
}

/**
 * The "Export CSV" resource action of a list: GET
 * /admin/api/resources/<id>/actions/exportCsv?filters.…=… answers the CSV itself (it writes to
 * the response and returns nothing, so AdminJS sends nothing more). It reads only: readers of
 * the back office (canReadBackOffice) may use it. `columns` are resource properties; secret
 * columns are not properties (DrizzleResource), so they cannot be exported.
 */
export function exportCsvAction(
  resourceId: string,
  columns: readonly string[],
): Record<typeof EXPORT_ACTION, Partial<Action<ActionResponse>>> {
  return {
    [EXPORT_ACTION]: {
      actionType: 'resource',
      icon: 'Download',
      component: false,
      isAccessible: ({ currentAdmin }) => canReadBackOffice(currentAdmin),
      handler: async (request: ActionRequest, response: unknown, context: ActionContext) => {
        if (!canReadBackOffice(context.currentAdmin)) throw new ForbiddenError('Not allowed');
        await streamCsv(
          context.resource as DrizzleResource,
          resourceId,
          columns,
          request,
          response as FastifyReply,
          context.currentAdmin as AdminSessionUser | undefined,
        );
        return undefined as never;
      },
    },
  };
}
