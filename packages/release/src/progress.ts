import type { StageName } from '@nixrel/core';

export type ImagePhase = StageName | 'queued' | 'done' | 'failed';

/** Receives what each image is doing; the orchestrator reports, a view renders. */
export interface ProgressReporter {
  stage(image: string, phase: ImagePhase, note?: string): void;
  bytes(image: string, done: number, total: number): void;
  /** Release-wide steps (evaluation, manifest, page, tags). */
  step(message: string): void;
  /** A log line; a live view prints it above itself so the two never tangle. */
  log(line: string): void;
  /** Ends the view; later calls do nothing. */
  close(): void;
}

interface Row {
  phase: ImagePhase;
  note?: string;
  started: number;
  bytes?: { done: number; total: number };
}

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

/** One line per event: for CI logs and pipes. */
export function lineReporter(write: (line: string) => void): ProgressReporter {
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  return {
    stage(image, phase, note) {
      write(`[${elapsed()}] ${image}: ${phase}${note ? ` (${note})` : ''}`);
    },
    bytes() {},
    step(message) {
      write(`[${elapsed()}] ${message}`);
    },
    log(line) {
      write(line);
    },
    close() {},
  };
}

/** A live table redrawn in place: one row per image with stage, bytes and elapsed time. */
export function terminalReporter(stream: NodeJS.WriteStream): ProgressReporter {
  const rows = new Map<string, Row>();
  const steps: string[] = [];
  let drawn = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const draw = () => {
    if (closed) return;
    const lines: string[] = [];
    const width = Math.max(5, ...[...rows.keys()].map((k) => k.length));
    for (const [name, row] of rows) {
      const secs = ((Date.now() - row.started) / 1000).toFixed(1).padStart(6);
      const bytes = row.bytes ? ` ${mib(row.bytes.done)} / ${mib(row.bytes.total)}` : '';
      lines.push(`${name.padEnd(width)}  ${row.phase.padEnd(10)} ${secs}s${bytes}${row.note ? `  ${row.note}` : ''}`);
    }
    if (steps.length > 0) lines.push(steps[steps.length - 1] ?? '');
    stream.write(`${drawn > 0 ? `\x1b[${drawn}F` : ''}${lines.map((l) => `\x1b[2K${l}`).join('\n')}\n`);
    drawn = lines.length;
  };
  const touch = (image: string): Row => {
    let row = rows.get(image);
    if (!row) {
      row = { phase: 'queued', started: Date.now() };
      rows.set(image, row);
    }
    return row;
  };
  return {
    stage(image, phase, note) {
      const row = touch(image);
      if (phase !== row.phase && phase !== 'done' && phase !== 'failed') row.started = Date.now();
      row.phase = phase;
      row.note = note;
      row.bytes = undefined;
      timer ??= setInterval(draw, 250);
      draw();
    },
    bytes(image, done, total) {
      touch(image).bytes = { done, total };
    },
    step(message) {
      steps.push(message);
      draw();
    },
    log(line) {
      if (closed) {
        stream.write(`${line}\n`);
        return;
      }
      // Clear the table, print the line where it stood, draw the table below.
      stream.write(`${drawn > 0 ? `\x1b[${drawn}F\x1b[0J` : ''}${line}\n`);
      drawn = 0;
      if (rows.size > 0) draw();
    },
    close() {
      if (closed) return;
      if (timer) clearInterval(timer);
      if (rows.size > 0) draw();
      closed = true;
    },
  };
}

export function silentReporter(): ProgressReporter {
  return { stage() {}, bytes() {}, step() {}, log() {}, close() {} };
}
