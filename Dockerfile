# funnelcredit as a container (e.g. a Cloud Run job; see docs/deploy-gcp.md).
#   docker build -t funnelcredit .
#   docker run --rm funnelcredit run --engine bigquery --bq-project my-project --artifacts gs://my-bucket/funnelcredit --json
#
# Build stage: all dependencies, then the compiled CLI. `npm ci` runs the prepare script
# (node scripts/build.mjs: esbuild bundles src/ and jobs/ into dist/cli.js), the same build `npm install`,
# `npm run build` and CI run;
# test/compiled-cli.test.ts runs it from a clean copy of the checkout.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY jobs ./jobs
RUN npm ci

# Runtime stage: production dependencies and the compiled output only, as the non-root user "node".
# npm ci --omit=dev has no esbuild: its prepare step keeps the dist/ copied from the build stage, which
# loads only production dependencies (every package stays external to the bundle).
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY --from=build /app/dist ./dist
RUN npm ci --omit=dev && npm cache clean --force
COPY bin ./bin
COPY sql ./sql
COPY includes ./includes
COPY definitions ./definitions
COPY workflow_settings.yaml ./
# .funnelcredit/ holds the compile cache (and the DuckDB warehouse when that engine is used):
# writable by the runtime user, and warmed with the default settings' graph so a run starts at once.
RUN mkdir .funnelcredit && chown node:node .funnelcredit
USER node
RUN node bin/funnelcredit.js compile > /dev/null
ENTRYPOINT ["node", "/app/bin/funnelcredit.js"]
CMD ["--help"]
