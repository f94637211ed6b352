// What the parts of the state bench's page (bench/state-vs-yjs.js) share:
// the clock, the status line, the long-task log, room names, timeouts, keys.

export const clock = () => performance.timeOrigin + performance.now();
const statusEl = document.getElementById('status');
export const setStatus = (text) => {
  if (statusEl) statusEl.textContent = text;
};

// Main-thread tasks over 50 ms in this tab, in clock() time, so the runner can
// tell where a long operation spent its time (this tab, the other tab, or
// neither: the transport).
const longTaskLog = [];
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) longTaskLog.push({ start: performance.timeOrigin + e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
} catch {
  // Long tasks are reported by Chromium; elsewhere the list stays empty.
}

export function longTasks(from, to) {
  return longTaskLog.filter((t) => t.start + t.duration > from && t.start < to);
}

export const freshRoom = (label) => `bench-state-${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const keysFor = (n, prefix = 'k') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
export const expectedSum = (n) => (n * (n - 1)) / 2;
