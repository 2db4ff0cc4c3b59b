# syntax=docker/dockerfile:1

# Node.js 26 is the Active LTS line as of November 2026 (security fixes until April 2029) and
# satisfies package.json's engines (>=22, what the AWS SDK requires from January 2027). The tag
# names an exact release so that a rebuild cannot silently move to another one; both stages use
# the same image. At release time, add the digest the registry reports for this tag
# (node:26.12.1-bookworm-slim@sha256:...; see docs/install.md, "Pinning the base image").

# ---- build: compile TypeScript and bundle the operator, with the full dependency set ----
FROM node:26.12.1-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.ts ./scripts/
COPY src/ ./src/
# tsc to dist/src, then one minified bundle of the operator and the packages it uses in
# dist/operator (scripts/bundle.ts says why). Image scanners look for packages in node_modules,
# which this image has none of: the CycloneDX SBOM of the production packages goes along with the
# bundle instead (docs/install.md, "Software bill of materials").
RUN npm run build \
    && npm sbom --sbom-format cyclonedx --omit dev --package-lock-only > dist/operator/eks-upgrade-operator.cdx.json

# ---- runtime: the bundle alone ----
FROM node:26.12.1-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# The bundle carries every package the operator runs (their licenses in THIRD_PARTY_LICENSES.txt)
# and a package.json of its own that makes it an ES module: no node_modules, no npm install here.
COPY --from=build /app/dist/operator ./dist/operator
# Files stay owned by root and read-only for the process; 65532 matches the Deployment's
# runAsUser, and a numeric id lets Kubernetes verify runAsNonRoot.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["node", "dist/operator/main.js"]
