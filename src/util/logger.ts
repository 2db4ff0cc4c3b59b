/**
 * Structured JSON logging with winston.
 *
 * One root logger is made in main.ts; everything else receives a child. Code that works on one
 * ClusterUpgrade logs through a child carrying its key, so every line of a reconcile can be
 * found with one filter:
 *
 *   const log = forClusterUpgrade(rootLogger, "team-a", "prod-eu");
 *   log.info("control plane update started", { updateId });
 *   // {"level":"info","message":"control plane update started","clusterUpgrade":"team-a/prod-eu",...}
 *
 * which is the same as `rootLogger.child({ clusterUpgrade: "team-a/prod-eu" })`. Errors are
 * logged as fields through serializeError(), since Error objects serialize to {} in JSON.
 */
import type { Writable } from "node:stream";
import winston from "winston";

export type Logger = winston.Logger;

export const LOG_LEVELS = ["error", "warn", "info", "http", "verbose", "debug", "silly"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** Defaults to LOG_LEVEL from the environment, then "info". */
  level?: string;
  /** Fields added to every line, e.g. { component: "manager" }. */
  defaultMeta?: Record<string, unknown>;
  /** Where lines go; defaults to stdout. Tests pass a stream to read what was logged. */
  stream?: Writable;
  /** Drops every line (tests that do not look at logs). */
  silent?: boolean;
}

function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** The level to use, refusing unknown names early instead of silently logging nothing. */
export function resolveLogLevel(requested: string | undefined = process.env.LOG_LEVEL): LogLevel {
  const level = (requested ?? "").trim().toLowerCase();
  if (level === "") return "info";
  if (!isLogLevel(level)) {
    throw new Error(`unknown log level "${requested}" (expected one of ${LOG_LEVELS.join(", ")})`);
  }
  return level;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const transport = options.stream
    ? new winston.transports.Stream({ stream: options.stream })
    : new winston.transports.Console();
  return winston.createLogger({
    level: resolveLogLevel(options.level),
    silent: options.silent ?? false,
    defaultMeta: options.defaultMeta,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [transport],
  });
}

/** A logger that writes nothing, for tests and for code paths given no logger. */
export function createSilentLogger(): Logger {
  return createLogger({ silent: true, level: "info" });
}

/** Child logger whose lines carry `clusterUpgrade: "namespace/name"`. */
export function forClusterUpgrade(logger: Logger, namespace: string, name: string): Logger {
  return logger.child({ clusterUpgrade: `${namespace}/${name}` });
}
