# syntax=docker/dockerfile:1

# Node.js 26 is the Active LTS line as of November 2026: it gets security fixes until
# April 2029, and the official image's bookworm-slim variant is the smallest Debian-based one.
# Pin the tag here; for reproducible releases, add the digest (node:26-bookworm-slim@sha256:...)
# and let a dependency bot move it.

# ---- build: compile TypeScript to dist/ with the full dependency set ----
FROM node:26-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src/ ./src/
RUN npm run build

# ---- runtime: production dependencies and compiled code only ----
FROM node:26-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# package.json is needed at run time too: its "type": "module" makes dist/*.js ES modules.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
    && npm cache clean --force
COPY --from=build /app/dist ./dist
# Files stay owned by root and read-only for the process; 65532 matches the Deployment's
# runAsUser, and a numeric id lets Kubernetes verify runAsNonRoot.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["node", "dist/src/main.js"]
