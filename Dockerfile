# The rds-orchestrator worker image: compiled JavaScript, production dependencies only.
#   docker build -t rds-orchestrator .      (docker compose builds it as the `worker` service)
# Stage 1 compiles src/ with `npm run build` (dist/), which also bundles the workflows once, here, into
# dist/workflows.bundle.js (scripts/build-workflow-bundle.ts): the worker loads it and never runs webpack at
# its start. Stage 2 installs the production dependencies alone and runs `node dist/worker.js`, exactly what
# `npm run test:cluster` runs against the real Temporal server.
# The CLI is in the image too: `docker run --rm rds-orchestrator node dist/cli/index.js campaign list`.
# Only the product (src/) is copied: the simulator, the demo and local stack, the bench and the tests stay
# out (see .dockerignore). Worker settings and endpoints: docs/cluster.md. The extract's dumps go to the folder
# its spec names: mount a volume there (writable by the `node` user).

FROM node:22-bookworm-slim AS build
WORKDIR /app
# npm's postinstall fetches the local Temporal dev/test binaries, which an image never needs.
ENV RDS_ORCHESTRATOR_SKIP_TOOLS_INSTALL=1
COPY package.json package-lock.json ./
COPY scripts/install-tools.js ./scripts/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build-workflow-bundle.ts ./scripts/
COPY src ./src
RUN npm run build

FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    RDS_ORCHESTRATOR_SKIP_TOOLS_INSTALL=1 \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true \
    ORCHESTRATOR_METRICS_PORT=9464 \
    ORCHESTRATOR_HEALTH_PORT=8081 \
    ORCHESTRATOR_LOG_FORMAT=json \
    ORCHESTRATOR_SHUTDOWN_GRACE_SECONDS=30
# The extract runs the real pg_dump (as the runbook does): PostgreSQL 15's client, the major RDS runs here.
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client-15 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY scripts/install-tools.js ./scripts/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
# 9464: Prometheus metrics (GET /metrics); 8081: GET /healthz (liveness) and GET /readyz (readiness).
EXPOSE 9464 8081
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8081/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) drains: no new tasks, in-flight activities get ORCHESTRATOR_SHUTDOWN_GRACE_SECONDS.
STOPSIGNAL SIGTERM
CMD ["node", "dist/worker.js"]
