# syntax=docker/dockerfile:1

# Node.js 26 is the Active LTS line as of November 2026 (security fixes until April 2029) and
# satisfies package.json's engines (>=22, what the AWS SDK requires from January 2027). The tag
# names an exact release so that a rebuild cannot silently move to another one; both stages use
# the same image. At release time, add the digest the registry reports for this tag
# (node:26.12.1-bookworm-slim@sha256:...; see docs/install.md, "Pinning the base image").

# ---- build: compile TypeScript to dist/ with the full dependency set ----
FROM node:26.12.1-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src/ ./src/
RUN npm run build

# ---- runtime: production dependencies and compiled code only ----
FROM node:26.12.1-bookworm-slim AS runtime
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
