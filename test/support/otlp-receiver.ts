import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import protobuf from 'protobufjs';

/** A span as an OTLP receiver gets it, ids in hex. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
  /** The exporting process's `service.name`. */
  service: unknown;
}

export const SpanKind = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

/**
 * OTLP's trace export request (opentelemetry/proto/collector/trace/v1/trace_service.proto and
 * trace/v1/trace.proto), the fields this test reads, with their field numbers.
 */
const OTLP_TRACE = protobuf.Root.fromJSON({
  nested: {
    AnyValue: {
      oneofs: {
        value: {
          oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'bytesValue'],
        },
      },
      fields: {
        stringValue: { type: 'string', id: 1 },
        boolValue: { type: 'bool', id: 2 },
        intValue: { type: 'int64', id: 3 },
        doubleValue: { type: 'double', id: 4 },
        bytesValue: { type: 'bytes', id: 7 },
      },
    },
    KeyValue: {
      fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } },
    },
    Resource: { fields: { attributes: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
    Link: {
      fields: { traceId: { type: 'bytes', id: 1 }, spanId: { type: 'bytes', id: 2 } },
    },
    Span: {
      fields: {
        traceId: { type: 'bytes', id: 1 },
        spanId: { type: 'bytes', id: 2 },
        parentSpanId: { type: 'bytes', id: 4 },
        name: { type: 'string', id: 5 },
        kind: { type: 'int32', id: 6 },
        attributes: { rule: 'repeated', type: 'KeyValue', id: 9 },
        links: { rule: 'repeated', type: 'Link', id: 13 },
      },
    },
    ScopeSpans: { fields: { spans: { rule: 'repeated', type: 'Span', id: 2 } } },
    ResourceSpans: {
      fields: {
        resource: { type: 'Resource', id: 1 },
        scopeSpans: { rule: 'repeated', type: 'ScopeSpans', id: 2 },
      },
    },
    ExportTraceServiceRequest: {
      fields: { resourceSpans: { rule: 'repeated', type: 'ResourceSpans', id: 1 } },
    },
  },
}).lookupType('ExportTraceServiceRequest');

interface OtlpKeyValue {
  key: string;
  value?: Record<string, unknown>;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: OtlpKeyValue[];
  links?: { traceId: string; spanId: string }[];
}
interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

const valueOf = (value: Record<string, unknown> | undefined): unknown =>
  value === undefined ? undefined : Object.values(value)[0];

const attributesOf = (list: OtlpKeyValue[] = []): Record<string, unknown> =>
  Object.fromEntries(list.map(({ key, value }) => [key, valueOf(value)]));

/** A protobuf request in the shape of its JSON encoding, but with ids in base64 (not hex). */
function decodeProtobuf(body: Buffer): OtlpRequest {
  return OTLP_TRACE.toObject(OTLP_TRACE.decode(body), {
    longs: String,
    bytes: String,
  });
}

const base64ToHex = (value: string | undefined): string =>
  Buffer.from(value ?? '', 'base64').toString('hex');

export interface OtlpReceiver {
  /** For OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces). */
  url: string;
  spans: ReceivedSpan[];
  /** Every export request: its path and content type. */
  requests: { path: string; contentType: string }[];
  /** Waits (at most 30 s) until `found` returns something truthy for the spans received. */
  waitFor<T>(what: string, found: (spans: ReceivedSpan[]) => T | undefined | false): Promise<T>;
  close(): Promise<void>;
}

/**
 * An OTLP/HTTP trace receiver on loopback, as a collector would be: accepts
 * `application/json` (http/json) and `application/x-protobuf` (http/protobuf) export requests
 * on /v1/traces, decodes them and keeps their spans.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: { path: string; contentType: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const contentType = req.headers['content-type'] ?? '';
      requests.push({ path: req.url ?? '', contentType });
      const body = Buffer.concat(chunks);
      let request: OtlpRequest;
      const protobufIds = contentType.startsWith('application/x-protobuf');
      try {
        if (req.url !== '/v1/traces') throw new Error(`unexpected path ${req.url}`);
        if (protobufIds) request = decodeProtobuf(body);
        else if (contentType.startsWith('application/json'))
          request = JSON.parse(body.toString('utf8')) as OtlpRequest;
        else throw new Error(`unexpected content type ${contentType}`);
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
        return;
      }
      const id = protobufIds ? base64ToHex : (value: string | undefined) => value ?? '';
      for (const resourceSpans of request.resourceSpans ?? []) {
        const service = attributesOf(resourceSpans.resource?.attributes)['service.name'];
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({
              traceId: id(span.traceId),
              spanId: id(span.spanId),
              parentSpanId: id(span.parentSpanId),
              name: span.name,
              kind: span.kind,
              attributes: attributesOf(span.attributes),
              links: (span.links ?? []).map((link) => ({
                traceId: id(link.traceId),
                spanId: id(link.spanId),
              })),
              service,
            });
          }
        }
      }
      res
        .writeHead(200, {
          'content-type': protobufIds ? 'application/x-protobuf' : 'application/json',
        })
        .end(protobufIds ? Buffer.alloc(0) : '{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    requests,
    async waitFor(what, found) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const result = found(spans);
        if (result) return result;
        if (Date.now() > deadline) {
          throw new Error(
            `no ${what} among the spans received:\n${spans.map((s) => `${s.traceId} ${s.spanId} <- ${s.parentSpanId} ${s.kind} ${s.name}`).join('\n')}`,
          );
        }
        await sleep(100);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
