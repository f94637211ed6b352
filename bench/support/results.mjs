// A benchmark run's identity and results: the run id, the rounding of the
// figures that go into the JSON, and saving it (with what the pages logged).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';

// Unique per run; also names the rooms and channels the run uses.
export const newRunId = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

// v rounded to `digits` decimals for the JSON; null for anything that is not
// a finite number (a figure a trial did not have).
export const round = (v, digits = 4) => (Number.isFinite(v) ? Math.round(v * 10 ** digits) / 10 ** digits : null);

// A summary() or distribution() with every figure but n rounded.
export const roundStats = (s, digits = 4) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === 'n' ? v : round(v, digits)]));

export async function saveResults(resultsFile, results, problems) {
  await mkdir(dirname(resultsFile), { recursive: true });
  await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`results written to ${relative(process.cwd(), resultsFile) || resultsFile}`);
  if (problems.length > 0) {
    console.log(`\n${problems.length} console message(s) from the pages:`);
    for (const p of problems.slice(0, 20)) console.log(`  ${p}`);
  }
}
