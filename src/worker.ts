// The job worker's entry point (`node dist/bundle/worker.js`, this file bundled by
// src/cli/bundle.ts; `node dist/worker.js` unbundled; see worker-app.ts). Like main.ts, it
// starts tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set before the worker's modules load,
// so that the instrumentations see them load.
import { tracingSettings } from './config/tracing-config.js';

const tracing = tracingSettings();
if (tracing !== null) (await import('./boot/tracing.js')).startTracing(tracing);

await import('./worker-app.js');
