// The state bench's command line: bench/state-vs-yjs.mjs --help.

const SECTIONS = ['rw', 'b3', 'sync', 'size'];

export function parseArgs(argv) {
  const options = { trials: 5, n: 100_000, replicas: 1540, syncN: 100_000, only: [...SECTIONS], profile: false };
  for (const arg of argv) {
    if (arg === '--profile') {
      options.profile = true;
      continue;
    }
    if (arg === '--help' || arg === '-h') {
      console.log(
        'usage: node bench/state-vs-yjs.mjs [--trials=5] [--n=100000] [--replicas=1540] [--sync-n=100000] [--only=rw,b3,sync,size] [--profile]\n' +
          '  --profile: one untimed run of each write/read kind and of each in-page sync under the CPU profiler, by function',
      );
      process.exit(0);
    }
    let m = /^--(trials|n|replicas|sync-n)=(\d+)$/.exec(arg);
    if (m) {
      options[m[1] === 'sync-n' ? 'syncN' : m[1]] = Number(m[2]);
      continue;
    }
    m = /^--only=([a-z0-9,]+)$/.exec(arg);
    if (m) {
      options.only = m[1].split(',');
      for (const s of options.only) if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section ${s} (${SECTIONS.join(', ')})`);
      continue;
    }
    throw new Error(`unknown argument ${arg} (try --help)`);
  }
  if (options.trials < 1 || options.n < 1 || options.replicas < 2 || options.syncN < 1) {
    throw new Error('--trials, --n and --sync-n must be >= 1 and --replicas >= 2');
  }
  return options;
}
