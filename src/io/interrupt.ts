/**
 * The one place that handles interrupts (SIGINT, SIGTERM) for every command.
 *
 * - Temp files register here (atomic-file.ts) and are removed, synchronously, on an interrupt and
 *   on any process exit, so a Ctrl-C never leaves a hidden multi-megabyte `.tmp` behind.
 * - A command that can stop cleanly (import: finish the batch in flight, write its ledger) registers
 *   a graceful handler; the first signal calls it, a second one exits at once.
 * - Otherwise the signal prints a message, removes the temp files and exits 130 (SIGINT) or 143
 *   (SIGTERM), the shell's 128 + signal number.
 *
 * Only the CLI installs the process handlers (installInterruptHandlers); a library user keeps
 * control of its own signals, but temp files are still removed on exit.
 */
import { unlinkSync } from 'node:fs';

export type InterruptSignal = 'SIGINT' | 'SIGTERM';

/** 128 + signal number, what a shell reports for a process killed by that signal. */
export const EXIT_INTERRUPTED: Record<InterruptSignal, number> = { SIGINT: 130, SIGTERM: 143 };

const tempFiles = new Set<string>();
const graceful = new Set<(signal: InterruptSignal) => void>();
let installed = false;
let interrupted = false;
let exitHookInstalled = false;

function removeTempFiles(): void {
  for (const p of tempFiles) {
    try {
      unlinkSync(p);
    } catch {
      // Already gone (renamed into place, or never created): nothing to clean.
    }
  }
  tempFiles.clear();
}

/** Remove `path` if the process ends (exit or interrupt) before unregister() is called. */
export function registerTempFile(path: string): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', removeTempFiles);
  }
  tempFiles.add(path);
  return () => {
    tempFiles.delete(path);
  };
}

/** Temp files currently registered (for tests and diagnostics). */
export function registeredTempFiles(): string[] {
  return [...tempFiles];
}

/**
 * Ask to be told about the first interrupt instead of the process exiting; the caller then stops
 * its work and returns normally. Returns the function that removes the handler.
 */
export function onInterrupt(handler: (signal: InterruptSignal) => void): () => void {
  graceful.add(handler);
  return () => {
    graceful.delete(handler);
  };
}

/** Leave now: remove temp files, say so, exit with 128 + signal. */
export function exitInterrupted(signal: InterruptSignal, why = 'interrupted'): never {
  const n = tempFiles.size;
  removeTempFiles();
  process.stderr.write(`\nrekey: ${why} (${signal})${n > 0 ? `; removed ${n} unfinished output file${n === 1 ? '' : 's'}` : ''}; nothing more was written\n`);
  process.exit(EXIT_INTERRUPTED[signal]);
}

/** What a signal (or a Ctrl-C read by a prompt) does. */
export function interrupt(signal: InterruptSignal): void {
  if (!interrupted && graceful.size > 0) {
    interrupted = true;
    process.stderr.write(`\nrekey: interrupted (${signal}); stopping cleanly (interrupt again to stop at once)\n`);
    for (const h of [...graceful]) h(signal);
    return;
  }
  exitInterrupted(signal);
}

/** Install the SIGINT/SIGTERM handlers (the CLI does this once, before any command runs). */
export function installInterruptHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('SIGINT', () => interrupt('SIGINT'));
  process.on('SIGTERM', () => interrupt('SIGTERM'));
}
