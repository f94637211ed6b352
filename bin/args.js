// Command-line arguments of `peercompute`: parsed by hand rather than with
// util.parseArgs, so that every mistake gets a message naming the flag and
// what it takes. Parsing touches nothing (no file read, no directory made):
// the commands do that once every argument is known to be good.

// An error in the arguments: the command prints it with the usage and exits 2.
export class UsageError extends Error {
  constructor(message) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `Usage:
  peercompute keep --server HOST:PORT[/PATH] --room ROOM [--game GAME] [--password-file FILE]
                   [--data-dir DIR] [--workers N] [--secure] [--json]
  peercompute signal [--port 9000] [--host 127.0.0.1]
  peercompute --help | --version

keep    joins ROOM through the PeerJS server at HOST:PORT (path /peerjs unless given),
        keeps the room's state on disk under DIR (default ./peercompute-data) and runs
        compute units for the room's peers on N workers (default: cores - 1)
signal  runs the PeerJS signaling server (npm i peer) with discovery on, path /peerjs`;

export const DEFAULT_DATA_DIR = './peercompute-data';
export const DEFAULT_SIGNAL_PORT = 9000;
export const SIGNALING_PATH = '/peerjs';
const MAX_WORKERS = 256; // the kernel's bound on computeWorkers

// name -> {value: true if it takes a value}
const FLAGS = {
  keep: {
    server: { value: true },
    room: { value: true },
    game: { value: true },
    'password-file': { value: true },
    'data-dir': { value: true },
    workers: { value: true },
    secure: { value: false },
    json: { value: false },
  },
  signal: {
    port: { value: true },
    host: { value: true },
  },
};

// argv (without node and the script) -> {command, options} where options
// holds each flag's raw string (or true), or {command: 'help' | 'version'}.
export function parseArgs(argv) {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') return { command: 'help' };
  if (command === '--version' || command === '-v') return { command: 'version' };
  const flags = FLAGS[command];
  if (!flags) throw new UsageError(`unknown command ${JSON.stringify(command)}; the commands are keep and signal`);
  const options = {};
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--help' || arg === '-h') return { command: 'help' };
    if (!arg.startsWith('--')) throw new UsageError(`${command}: unexpected argument ${JSON.stringify(arg)}; every value follows its flag`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const flag = flags[name];
    if (!flag) {
      throw new UsageError(`--${name}: unknown flag for ${command}; its flags are ${Object.keys(flags).map((f) => `--${f}`).join(', ')}`);
    }
    if (name in options) throw new UsageError(`--${name}: given twice`);
    if (!flag.value) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      options[name] = true;
      continue;
    }
    let value;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (i + 1 < rest.length && !rest[i + 1].startsWith('--')) value = rest[++i];
    if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
    options[name] = value;
  }
  return command === 'keep' ? { command, options: keepOptions(options) } : { command, options: signalOptions(options) };
}

function integer(text, flag, min, max) {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${flag} must be an integer in ${min}..${max}, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

// HOST:PORT[/PATH], HOST an address or name ([::1] for IPv6), the path
// '/peerjs' unless given (the path the repository's server and `npx peer
// --path /peerjs` use).
export function parseServer(text, secure) {
  const flag = '--server';
  if (/^[a-z]+:\/\//i.test(text)) {
    throw new UsageError(`${flag} takes HOST:PORT[/PATH], without a scheme (use --secure for wss://), got ${JSON.stringify(text)}`);
  }
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([^/]*)(\/.*)?$/.exec(text);
  if (!match) throw new UsageError(`${flag} takes HOST:PORT[/PATH], such as 127.0.0.1:9000 or signal.example.org:443/peerjs, got ${JSON.stringify(text)}`);
  const [, host, portText, path = SIGNALING_PATH] = match;
  const port = integer(portText, `${flag}: the port`, 1, 65535);
  return { host, port, path, secure, key: 'peerjs' };
}

function keepOptions(o) {
  if (o.server === undefined) throw new UsageError('--server is required: HOST:PORT[/PATH] of the PeerJS server the room meets on');
  if (o.room === undefined) throw new UsageError('--room is required: the room to keep');
  return {
    peerServer: parseServer(o.server, o.secure === true),
    roomId: o.room,
    gameId: o.game ?? null,
    passwordFile: o['password-file'] ?? null,
    dataDir: o['data-dir'] ?? DEFAULT_DATA_DIR,
    computeWorkers: o.workers === undefined ? null : integer(o.workers, '--workers', 0, MAX_WORKERS),
    json: o.json === true,
  };
}

function signalOptions(o) {
  const host = o.host ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) throw new UsageError(`--host must be an address or host name to listen on, got ${JSON.stringify(host)}`);
  // 0: any free port (the one taken is printed).
  return { port: o.port === undefined ? DEFAULT_SIGNAL_PORT : integer(o.port, '--port', 0, 65535), host };
}
