import { describe, expect, it, vi } from 'vitest';
import { lineReporter, terminalReporter } from '../src/progress.js';

describe('lineReporter', () => {
  it('writes one line per stage and step, with the elapsed time', () => {
    vi.useFakeTimers({ now: new Date('2026-03-04T00:00:00Z') });
    try {
      const lines: string[] = [];
      const p = lineReporter((l) => lines.push(l));
      p.stage('hello', 'build');
      vi.advanceTimersByTime(1250);
      p.stage('hello', 'publish');
      p.bytes('hello', 10, 100);
      p.step('release example-v1 of example: 1 images');
      vi.advanceTimersByTime(40_000);
      p.stage('hello', 'done', 'sha256:abc');
      p.stage('greeter', 'failed', 'tag conflict');
      p.close();
      expect(lines).toEqual([
        '[0.0s] hello: build',
        '[1.3s] hello: publish',
        '[1.3s] release example-v1 of example: 1 images',
        '[41.3s] hello: done (sha256:abc)',
        '[41.3s] greeter: failed (tag conflict)',
      ]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps byte counts out of the log', () => {
    const lines: string[] = [];
    const p = lineReporter((l) => lines.push(l));
    for (let i = 0; i <= 100; i++) p.bytes('hello', i, 100);
    expect(lines).toEqual([]);
  });
});

describe('terminalReporter', () => {
  it('redraws one row per image in place, with stage, time, bytes and note', () => {
    vi.useFakeTimers({ now: new Date('2026-03-04T00:00:00Z') });
    let out = '';
    const stream = {
      write: (s: string) => {
        out += s;
        return true;
      },
    } as unknown as NodeJS.WriteStream;
    try {
      const p = terminalReporter(stream);
      p.stage('hello', 'publish');
      p.stage('greeter', 'build');
      p.bytes('hello', 1048576, 4 * 1048576);
      vi.advanceTimersByTime(2000);
      const frame = out.slice(out.lastIndexOf('\x1b[2F'));
      expect(frame).toContain('\x1b[2Khello    publish       2.0s 1.0 MiB / 4.0 MiB');
      expect(frame).toContain('\x1b[2Kgreeter  build         2.0s');
      p.stage('hello', 'done', 'sha256:abc');
      p.step('writing release.json');
      p.close();
      // The step added a line: the last frame moves up over three.
      const last = out.slice(out.lastIndexOf('\x1b[3F') + '\x1b[3F'.length);
      expect(last.split('\n').filter(Boolean)).toEqual([
        '\x1b[2Khello    done          2.0s  sha256:abc',
        '\x1b[2Kgreeter  build         2.0s',
        '\x1b[2Kwriting release.json',
      ]);
      // Once closed, nothing more is drawn.
      const length = out.length;
      vi.advanceTimersByTime(5000);
      expect(out.length).toBe(length);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('terminalReporter and log lines', () => {
  it('prints a log line above the table and draws the table again below it; close is final', () => {
    let out = '';
    const stream = {
      write: (s: string) => {
        out += s;
        return true;
      },
    } as unknown as NodeJS.WriteStream;
    const p = terminalReporter(stream);
    p.stage('hello', 'publish');
    p.log('warn: signing with the local key');
    p.close();
    const afterClose = out;
    p.close();
    p.stage('hello', 'done');
    expect(out).toBe(afterClose);
    // The table (one row) is erased before the log line, then drawn again under it.
    const logAt = out.indexOf('warn: signing with the local key');
    expect(out.slice(0, logAt)).toMatch(/\x1b\[1F\x1b\[0J$/);
    expect(out.slice(logAt)).toMatch(/^warn: signing with the local key\n\x1b\[2Khello\s+publish/);
  });
});
