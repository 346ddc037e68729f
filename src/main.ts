// The entry point (`npm start` and the Docker image run dist/bundle/main.js, this file bundled
// by src/cli/bundle.ts; `node dist/main.js` runs it unbundled). It only turns on Node's module
// compile cache and, when OTEL_EXPORTER_OTLP_ENDPOINT is set, tracing, then loads the app
// (server.ts), so that the cache covers every module the app loads and the instrumentations
// see them load.
import module from 'node:module';
import { tracingSettings } from './config/tracing-config.js';

// Node 22.1+ (the Docker image runs Node 24): V8 keeps the compiled code of the modules the app
// loads (the bundle's chunks and the packages left outside it) on disk (NODE_COMPILE_CACHE,
// else <tmpdir>/node-compile-cache) and the next start reuses it (about 0.2 s faster to ready
// unbundled, measured in bench/RESULTS.md). Node 20 has no such cache: nothing happens there.
const { enableCompileCache } = module as { enableCompileCache?: () => unknown };
enableCompileCache?.();

// Unset, no OpenTelemetry module is even loaded (docs/deploying.md, "Traces").
const tracing = tracingSettings();
if (tracing !== null) (await import('./boot/tracing.js')).startTracing(tracing);

await import('./server.js');
