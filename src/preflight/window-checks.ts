// Maintenance windows against the work they must hold. A control-plane hop starts only if it fits
// in what is left of the current window (it cannot be stopped once EKS has it), so windows that
// are all shorter than a hop would make the upgrade wait for ever, one window after the other.
import { formatDuration, parseDuration } from "../api/v1alpha1/duration.js";
import { blocking, type Finding } from "./findings.js";

export interface WindowFitInput {
  windows: { schedule: string; duration: string; timeZone: string }[];
  /** Control-plane hops still to start, as "from -> to". */
  pendingHops: string[];
  expectedHopMs: number;
  /** Where the expectation comes from: the spec's estimate or this cluster's slowest hop so far. */
  expectedFrom: "spec" | "measured";
}

export function checkWindowFit(input: WindowFitInput): Finding[] {
  if (input.windows.length === 0 || input.pendingHops.length === 0) return [];
  const durations = input.windows.map((window) => {
    try {
      return parseDuration(window.duration);
    } catch {
      return 0;
    }
  });
  if (durations.some((duration) => duration >= input.expectedHopMs)) return [];
  const expected = formatDuration(input.expectedHopMs);
  const listed = input.windows.map((window, index) => `spec.maintenanceWindows[${index}] "${window.schedule}" (${window.timeZone}) lasts ${window.duration}`).join("; ");
  const source =
    input.expectedFrom === "measured"
      ? `the slowest control-plane hop of this cluster so far took ${expected}`
      : `a control-plane hop is expected to take ${expected} (spec.controlPlane.expectedHopDuration)`;
  const lower = input.expectedFrom === "spec" ? ", or lower spec.controlPlane.expectedHopDuration if this cluster's hops are known to be faster" : "";
  return [
    blocking(
      "WIN001",
      input.windows.map((_, index) => `spec.maintenanceWindows[${index}]`).join(","),
      `no maintenance window is long enough for a control-plane hop, so ${input.pendingHops.join(", ")} can never start: ${source}, but ${listed}`,
      `give at least one window a duration of ${expected} or more${lower}`,
    ),
  ];
}
