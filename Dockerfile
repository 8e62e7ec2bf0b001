# The rds-orchestrator worker (and CLI). Runs the TypeScript sources through ts-node, as `npm run worker` does.
# Only the product (src/) is copied: the simulator (sim/), the demo and local stack (dev/), the bench and the
# tests stay out (see .dockerignore).
FROM node:20-bookworm-slim
WORKDIR /app
ENV RDS_ORCHESTRATOR_SKIP_TOOLS_INSTALL=1
COPY package.json package-lock.json ./
COPY scripts/install-tools.js ./scripts/
RUN npm ci
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
ENV NODE_ENV=production
ENTRYPOINT ["./bin/rds-orchestrator"]
CMD ["worker"]
