// Saves a benchmark run's results as JSON and shows what the pages logged.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';

export async function saveResults(resultsFile, results, problems) {
  await mkdir(dirname(resultsFile), { recursive: true });
  await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`results written to ${relative(process.cwd(), resultsFile) || resultsFile}`);
  if (problems.length > 0) {
    console.log(`\n${problems.length} console message(s) from the pages:`);
    for (const p of problems.slice(0, 20)) console.log(`  ${p}`);
  }
}
