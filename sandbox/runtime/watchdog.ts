// Started next to a sandbox that belongs to another process (a test run): when that process is
// gone, however it ended, this stops the sandbox and removes its directory, so nothing is left
// running. Usage: watchdog.ts OWNER_PID SANDBOX_DIR
import { setTimeout as sleep } from "node:timers/promises";
import { isRecordAlive, processStartTicks, type ProcessRecord } from "./processes.js";
import { stderrLogger, stopSandbox } from "./supervisor.js";

const ownerPid = Number(process.argv[2]);
const dir = process.argv[3];
if (!Number.isInteger(ownerPid) || ownerPid <= 0 || !dir) {
  process.stderr.write("usage: watchdog.ts OWNER_PID SANDBOX_DIR\n");
  process.exit(2);
}

// Remembering the owner's start time tells a reused pid (or an unreaped zombie) from the owner.
const owner: ProcessRecord = {
  name: "owner",
  pid: ownerPid,
  startTicks: processStartTicks(ownerPid),
  command: "",
  args: [],
  logFile: "",
  port: undefined,
};
const ownerAlive = (): boolean => isRecordAlive(owner);

// A signal means the owner is stopping the sandbox itself; leave that to it.
process.on("SIGTERM", () => process.exit(0));

while (ownerAlive()) await sleep(1_000);
stderrLogger(`owner ${ownerPid} is gone: stopping the sandbox in ${dir}`);
await stopSandbox(dir, stderrLogger);
