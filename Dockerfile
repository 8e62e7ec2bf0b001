# The rds-orchestrator worker (and CLI). Runs the TypeScript sources through ts-node, as `npm start` does.
FROM node:20-bookworm-slim
WORKDIR /app
ENV RDS_ORCHESTRATOR_SKIP_TOOLS_INSTALL=1
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
ENV NODE_ENV=production
ENTRYPOINT ["./bin/rds-orchestrator"]
CMD ["worker"]
