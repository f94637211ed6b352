// The `peercompute` bin refuses bad input with a message that names the flag,
// file or directory, a non-zero exit code, and no data directory made. Each
// case runs the real bin in a child process, in a scratch working directory
// (where the default ./peercompute-data would appear).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseArgs, parseServer } from '../../bin/args.js';
import { runCli } from './support/cli-processes.mjs';

const scratch = mkdtempSync(join(tmpdir(), 'peercompute-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const hidePackages = fileURLToPath(new URL('./support/hide-packages.mjs', import.meta.url));

// A fresh working directory per case; afterwards it must still be empty.
let cases = 0;
async function refused(args, pattern, code = 2) {
  const cwd = join(scratch, `case-${cases++}`);
  mkdirSync(cwd);
  const result = await runCli(args, { cwd });
  assert.equal(result.code, code, `exit code for ${args.join(' ')}: ${result.stderr}`);
  assert.match(result.stderr, pattern);
  assert.equal(result.stdout, '');
  assert.deepEqual(readdirSync(cwd), [], `nothing created by ${args.join(' ')}`);
  return result;
}

const server = ['--server', '127.0.0.1:9'];

describe('peercompute: bad arguments', () => {
  it('a missing, unknown, repeated or valueless flag names the flag, prints the usage and exits 2', async () => {
    await refused(['keep', '--room', 'r'], /--server is required[^\n]*\n\nUsage:/);
    await refused(['keep', ...server], /--room is required/);
    await refused(['keep', ...server, '--room', 'r', '--verbose'], /--verbose: unknown flag for keep; its flags are --server, --room/);
    await refused(['keep', ...server, '--room'], /--room needs a value/);
    await refused(['keep', ...server, '--room', 'r', '--data-dir', '--json'], /--data-dir needs a value/);
    await refused(['keep', ...server, '--room', 'a', '--room', 'b'], /--room: given twice/);
    await refused(['keep', ...server, '--room', 'r', 'extra'], /unexpected argument "extra"/);
    await refused(['keep', ...server, '--room', 'r', '--secure=yes'], /--secure takes no value/);
    await refused(['kep'], /unknown command "kep"; the commands are keep and signal/);
    await refused(['signal', '--room', 'r'], /--room: unknown flag for signal; its flags are --port, --host/);
  });

  it('a bad --server, port, --workers or room is refused naming the flag', async () => {
    await refused(['keep', '--server', '127.0.0.1', '--room', 'r'], /--server takes HOST:PORT\[\/PATH\]/);
    await refused(['keep', '--server', 'ws://127.0.0.1:9000', '--room', 'r'], /--server takes HOST:PORT\[\/PATH\], without a scheme \(use --secure/);
    await refused(['keep', '--server', '127.0.0.1:0', '--room', 'r'], /--server: the port must be an integer in 1\.\.65535, got "0"/);
    await refused(['keep', '--server', '127.0.0.1:99999', '--room', 'r'], /--server: the port must be an integer in 1\.\.65535/);
    await refused(['keep', '--server', '127.0.0.1:90a', '--room', 'r'], /--server: the port must be an integer/);
    await refused(['keep', ...server, '--room', 'r', '--workers', 'two'], /--workers must be an integer in 0\.\.256, got "two"/);
    await refused(['keep', ...server, '--room', 'r', '--workers', '1000'], /--workers must be an integer in 0\.\.256/);
    await refused(['keep', ...server, '--room', 'r', '--workers', '1.5'], /--workers must be an integer/);
    // The library's own rule, reported under the flag: at most 1 KiB of room name.
    await refused(['keep', ...server, '--room', 'x'.repeat(2000)], /--room: must be at most \d+ bytes of UTF-8/);
    await refused(['signal', '--port', '65536'], /--port must be an integer in 0\.\.65535, got "65536"/);
    await refused(['signal', '--port', 'http'], /--port must be an integer/);
  });

  it('an unreadable --password-file is named with the OS reason, exit 1', async () => {
    const missing = join(scratch, 'no-such-password');
    await refused(['keep', ...server, '--room', 'r', '--password-file', missing], new RegExp(`--password-file: cannot read ${missing}: ENOENT: no such file or directory`), 1);
    await refused(['keep', ...server, '--room', 'r', '--password-file', scratch], new RegExp(`--password-file: cannot read ${scratch}: EISDIR`), 1);
    const empty = join(scratch, 'empty-password');
    writeFileSync(empty, '\n');
    await refused(['keep', ...server, '--room', 'r', '--password-file', empty], /--password-file: .*empty-password is empty/, 1);
  });

  it('a --data-dir that is a file is refused, and left alone', async () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'not a directory');
    await refused(['keep', ...server, '--room', 'r', '--data-dir', file], /--data-dir: .*a-file exists and is not a directory/, 1);
    assert.ok(existsSync(file));
  });

  it('signal without the package peer says npm i peer', async () => {
    const cwd = join(scratch, 'no-peer');
    mkdirSync(cwd);
    const result = await runCli(['signal', '--port', '0'], {
      cwd,
      env: { ...process.env, HIDE_PACKAGES: 'peer', NODE_OPTIONS: `--import=${hidePackages}` },
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /the package peer, which is not installed\. Install it beside peercompute: npm i peer/);
  });

  it('--help and --version exit 0', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /peercompute keep --server HOST:PORT\[\/PATH\] --room ROOM/);
    const version = await runCli(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  });
});

describe('peercompute: the argument parser', () => {
  it('builds the peerServer option from --server and --secure, path /peerjs unless given', () => {
    assert.deepEqual(parseServer('signal.example.org:443', true), { host: 'signal.example.org', port: 443, path: '/peerjs', secure: true, key: 'peerjs' });
    assert.deepEqual(parseServer('[::1]:9000/custom/path', false), { host: '[::1]', port: 9000, path: '/custom/path', secure: false, key: 'peerjs' });
    const { options } = parseArgs(['keep', '--server=h:1', '--room', 'r', '--workers', '0', '--game', 'g']);
    assert.deepEqual(options, {
      peerServer: { host: 'h', port: 1, path: '/peerjs', secure: false, key: 'peerjs' },
      roomId: 'r',
      gameId: 'g',
      passwordFile: null,
      dataDir: './peercompute-data',
      computeWorkers: 0,
      json: false,
    });
    assert.deepEqual(parseArgs(['signal']).options, { port: 9000, host: '127.0.0.1' });
  });
});
