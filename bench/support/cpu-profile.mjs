// CPU profiles of bench pages through the Chrome DevTools Protocol, for the
// benches' --profile option: where the time of one scenario goes, by
// function, before and after a change. A profile run is never a timed run:
// the sampler itself costs time.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Starts V8's sampling profiler in page (every 50 us unless told).
export async function startProfiling(page, intervalUs = 50) {
  const session = await page.context().newCDPSession(page);
  await session.send('Profiler.enable');
  await session.send('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.send('Profiler.start');
  return session;
}

// Stops it; returns the profile (the .cpuprofile format DevTools opens).
export async function stopProfiling(session) {
  const { profile } = await session.send('Profiler.stop');
  await session.detach();
  return profile;
}

// Self time per function (name, file and line), in ms, largest first. The
// page's idle time ("(idle)") and the profiler's own are left out of the share.
export function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url ? url.slice(url.lastIndexOf('/') + 1) : '';
    const name = `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
    self.set(name, (self.get(name) ?? 0) + dt);
  }
  const idle = new Set(['(idle)', '(program)', '(garbage collector)']);
  const busy = [...self].filter(([name]) => name !== '(idle)').reduce((s, [, ms]) => s + ms, 0);
  return [...self]
    .filter(([name]) => name !== '(idle)')
    .map(([name, ms]) => ({ name, ms, share: ms / busy, runtime: idle.has(name) }))
    .sort((a, b) => b.ms - a.ms);
}

// Prints the top rows of a profile and saves it as DIR/LABEL.cpuprofile.
export function reportProfile(label, profile, dir, top = 15) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${label}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  const rows = selfTimes(profile);
  const busy = rows.reduce((s, r) => s + r.ms, 0);
  console.log(`profile ${label}: ${busy.toFixed(1)} ms busy (saved to ${file}); self time by function:`);
  for (const r of rows.slice(0, top)) {
    console.log(`  ${r.ms.toFixed(1).padStart(8)} ms  ${(100 * r.share).toFixed(1).padStart(5)}%  ${r.name}`);
  }
  return rows;
}
