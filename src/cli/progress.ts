/**
 * Progress on stderr, one implementation for every command (cli-progress): a redrawn bar on a
 * terminal, a plain line every 10 s when stderr is a log.
 */
import { Presets, SingleBar } from "cli-progress";

export interface PhaseProgress {
  /** `done` of `total` units of `phase`; a new phase restarts the bar. */
  update(phase: string, done: number, total: number, last?: string): void;
  stop(): void;
}

export function phaseProgress(unit: string): PhaseProgress {
  const bar = new SingleBar({
    stream: process.stderr,
    format: `{phase} [{bar}] {value}/{total} ${unit} | {percentage}% | ETA {eta_formatted} | {last}`,
    noTTYOutput: true, // a line now and then when stderr is a log, not a redrawn bar
    notTTYSchedule: 10_000,
    etaBuffer: 12,
    hideCursor: true,
  }, Presets.shades_classic);
  let current: string | undefined;
  return {
    update(phase, done, total, last = "") {
      if (phase !== current) {
        if (current !== undefined) bar.stop();
        current = phase;
        bar.start(total, done, { phase, last });
      } else {
        bar.update(done, { last });
      }
    },
    stop() {
      if (current !== undefined) bar.stop();
      current = undefined;
    },
  };
}
