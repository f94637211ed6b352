#!/usr/bin/env node
// The package's command line: `peercompute keep` (a node that holds a room:
// its state on disk, compute for its peers) and `peercompute signal` (the
// PeerJS server the nodes meet on). See the README's "The command line".
// Exit codes: 0 after a clean stop, 2 for bad arguments, 1 for any other
// failure; each failure is one line on stderr that names what to fix.
import { readFileSync } from 'node:fs';
import { parseArgs, USAGE, UsageError } from './args.js';
import { keep, KeepError } from './keep.js';
import { signal, SignalError } from './signal.js';

async function main(argv) {
  const { command, options } = parseArgs(argv);
  if (command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command === 'version') {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    process.stdout.write(`${version}\n`);
    return 0;
  }
  return command === 'keep' ? keep(options) : signal(options);
}

try {
  const code = await main(process.argv.slice(2));
  // The PeerJS server's timers, and a stopped node's last closing handles,
  // would hold the process a while longer: everything is done.
  process.exit(code);
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`peercompute: ${error.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  const known = error instanceof KeepError || error instanceof SignalError;
  process.stderr.write(`peercompute: ${known ? error.message : error?.stack ?? error}\n`);
  process.exit(1);
}
