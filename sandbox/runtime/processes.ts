// Starting and stopping the sandbox's processes. Each one runs in its own process group, detached
// from the caller, so that `sandbox up` can return while they keep running and `sandbox down`
// (or a test run's teardown) can end each one with all of its children.
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface ProcessRecord {
  name: string;
  pid: number;
  /** Start time of the process in clock ticks since boot, to tell our process from a reused pid. */
  startTicks: number | undefined;
  command: string;
  args: string[];
  logFile: string;
  port: number | undefined;
}

export interface StartedProcess {
  record: ProcessRecord;
  /** Set once the process has exited, with its exit code or signal. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logDir: string;
  pidDir: string;
  port?: number;
}

export function spawnDetached(options: SpawnOptions): StartedProcess {
  mkdirSync(options.logDir, { recursive: true });
  mkdirSync(options.pidDir, { recursive: true });
  const logFile = join(options.logDir, `${options.name}.log`);
  const logFd = openSync(logFile, "a");
  writeFileSync(logFd, `--- ${new Date().toISOString()} ${options.command} ${options.args.join(" ")}\n`);
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ["ignore", logFd, logFd],
  });
  closeSync(logFd);
  if (child.pid === undefined) {
    throw new Error(`starting ${options.name}: ${options.command} could not be spawned (see ${logFile})`);
  }
  const started: StartedProcess = {
    record: {
      name: options.name,
      pid: child.pid,
      startTicks: processStartTicks(child.pid),
      command: options.command,
      args: options.args,
      logFile,
      port: options.port,
    },
    exit: undefined,
  };
  child.on("exit", (code, signal) => {
    started.exit = { code, signal };
  });
  child.on("error", () => {
    started.exit ??= { code: null, signal: null };
  });
  child.unref();
  writeProcessRecord(options.pidDir, started.record);
  return started;
}

export function writeProcessRecord(pidDir: string, record: ProcessRecord): void {
  mkdirSync(pidDir, { recursive: true });
  writeFileSync(join(pidDir, `${record.name}.json`), JSON.stringify(record, null, 2) + "\n");
}

export function readProcessRecords(pidDir: string): ProcessRecord[] {
  if (!existsSync(pidDir)) return [];
  return readdirSync(pidDir)
    .filter((file) => file.endsWith(".json"))
    .map((file) => JSON.parse(readFileSync(join(pidDir, file), "utf8")) as ProcessRecord);
}

/** Field 22 of /proc/PID/stat; undefined where /proc is not there or the process is gone. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses; fields after it are plain.
    const afterName = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(afterName[19]);
  } catch {
    return undefined;
  }
}

function signalExists(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** True when the recorded process is still running and is the one we started, not a reused pid. */
export function isRecordAlive(record: ProcessRecord): boolean {
  if (!signalExists(record.pid)) return false;
  const ticks = processStartTicks(record.pid);
  if (ticks === undefined || record.startTicks === undefined) return true;
  if (ticks !== record.startTicks) return false;
  return !isZombie(record.pid);
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

/**
 * Whether any live member of the group the record leads is left (the leader may be gone already).
 * Zombies do not count: a process whose parent exited waits for init to reap it, which can take
 * seconds here, and it holds nothing any more.
 */
function groupAlive(record: ProcessRecord): boolean {
  if (signalExists(record.pid)) {
    const ticks = processStartTicks(record.pid);
    // The pid now belongs to somebody else: our group is gone, leave theirs alone.
    if (ticks !== undefined && record.startTicks !== undefined && ticks !== record.startTicks) return false;
  }
  const members = liveGroupMembers(record.pid);
  return members === undefined ? signalExists(-record.pid) : members > 0;
}

/** Non-zombie processes in process group `pgid`; undefined where /proc cannot be read. */
function liveGroupMembers(pgid: number): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return undefined;
  }
  let count = 0;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    // After the command name: state, ppid, pgrp, ...
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X") count++;
  }
  return count;
}

function signalGroup(record: ProcessRecord, signal: NodeJS.Signals): void {
  try {
    process.kill(-record.pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Ends the given processes' groups: SIGTERM first, SIGKILL to what is left after the grace period.
 * Returns the names of the processes that had to be killed.
 */
export async function stopProcesses(records: ProcessRecord[], gracePeriodMs = 10_000): Promise<string[]> {
  const running = records.filter(groupAlive);
  for (const record of running) signalGroup(record, "SIGTERM");
  const deadline = Date.now() + gracePeriodMs;
  while (Date.now() < deadline && running.some(groupAlive)) await sleep(100);
  const stubborn = running.filter(groupAlive);
  for (const record of stubborn) signalGroup(record, "SIGKILL");
  const killDeadline = Date.now() + 5_000;
  while (Date.now() < killDeadline && stubborn.some(groupAlive)) await sleep(100);
  return stubborn.map((record) => record.name);
}

/** Last resort for a process about to exit: no waiting is possible, so SIGKILL at once. */
export function killProcessesNow(records: ProcessRecord[]): void {
  for (const record of records) if (groupAlive(record)) signalGroup(record, "SIGKILL");
}

export function tailFile(path: string, lines = 40): string {
  try {
    const text = readFileSync(path, "utf8");
    return text.split("\n").slice(-lines - 1).join("\n");
  } catch {
    return `(no log at ${path})`;
  }
}

/**
 * Removes the named entries of `dir`, then `dir` itself if nothing else is left in it: a state
 * directory may hold other things (another sandbox in a subdirectory, say) that are not ours.
 */
export function removeEntries(dir: string, entries: readonly string[]): void {
  for (const entry of entries) rmSync(join(dir, entry), { recursive: true, force: true });
  try {
    if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true, force: true });
  } catch {
    // Already gone.
  }
}
