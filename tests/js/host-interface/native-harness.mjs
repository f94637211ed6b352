// A native program built from the generated C++ end of the host interface,
// for the Node tests to check it against the JS end. From the table it
// writes a sample of every output (values of every type, optionals present
// and absent, lists full and empty); the program encodes them with
// pc::host::OutputEncoder and prints the stream, and reads input batches
// with the generated readers and prints what it read.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { cppFiles } from '../../../scripts/generate-host-interface.mjs';
import { jsName } from '../../../scripts/host-interface/table.mjs';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const utf8 = new TextEncoder();

const PEERS = ['peer-a', 'peer-b', 'peer-é'];
const TEXTS = ['route', 'é✓ unicode', 'x'.repeat(80) + ' long enough to skip the short-ASCII path', ''];

// The value a field of `type` takes in sample `k`; `full`: optionals present, lists of three.
function sampleValue(type, structs, k, full) {
  if (typeof type === 'object' && type.optional !== undefined) return full ? sampleValue(type.optional, structs, k, full) : null;
  if (typeof type === 'object') return full ? [0, 1, 2].map((i) => sampleValue(type.list, structs, k + i, full)) : [];
  if (structs[type]) return Object.fromEntries(structs[type].fields.map((f, i) => [f.name, sampleValue(f.type, structs, k + i, full)]));
  switch (type) {
    case 'bool':
      return (k % 2 === 0) === full;
    case 'u32':
      return 4_000_000_000 + k;
    case 'u64':
      return 2 ** 53 - 1 - k;
    case 'f64':
      return full ? 0.1 * (k + 1) : -1.5e300;
    case 'peer':
      return full ? PEERS[k % PEERS.length] : ''; // '': this node, handle 0
    case 'bytes':
      return full ? new Uint8Array([0, 255, k & 0xff, 128, 7]) : new Uint8Array(0);
    default: // str
      return TEXTS[k % TEXTS.length];
  }
}

function cppBytes(bytes) {
  return `"${[...bytes].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}", ${bytes.length}`;
}

function cppScalar(type, value, target) {
  switch (type) {
    case 'bool':
      return String(value);
    case 'u32':
      return `${value}u`;
    case 'u64':
      return `${value}ull`;
    case 'f64':
      return String(value);
    case 'bytes':
      return `bytesLike<std::decay_t<decltype(${target})>>(${cppBytes(value)})`;
    default: // str, peer
      return `std::string(${cppBytes(utf8.encode(value))})`;
  }
}

// Statements that give `target` the sample value.
function cppAssign(target, type, value, structs, depth = 0) {
  if (typeof type === 'object' && type.optional !== undefined) {
    return value === null ? [`${target} = std::nullopt;`] : cppAssign(target, type.optional, value, structs, depth);
  }
  if (typeof type === 'object') {
    const element = type.list;
    return value.flatMap((item) => {
      if (!structs[element]) return [`${target}.push_back(${cppScalar(element, item, `${target}[0]`)});`];
      const e = `e${depth}`;
      return [`{`, `  pc::${element} ${e};`, ...cppAssign(e, element, item, structs, depth + 1).map((l) => `  ${l}`), `  ${target}.push_back(std::move(${e}));`, '}'];
    });
  }
  if (structs[type]) return structs[type].fields.flatMap((f) => cppAssign(`${target}.${f.name}`, f.type, value[f.name], structs, depth));
  return [`${target} = ${cppScalar(type, value, target)};`];
}

// What the JS decoder must make of the sample.
function expectedJs(type, value, structs, field = {}, flags = {}) {
  if (typeof type === 'object' && type.optional !== undefined) return value === null ? null : expectedJs(type.optional, value, structs);
  if (typeof type === 'object') return value.map((item) => expectedJs(type.list, item, structs));
  if (structs[type]) return Object.fromEntries(structs[type].fields.map((f) => [jsName(f), expectedJs(f.type, value[f.name], structs, f)]));
  if (field.bytesWhen && flags[field.bytesWhen]) return utf8.encode(value);
  return value;
}

// Two samples of every output, in table order: [{name, values, expected}].
export function sampleOutputs(table) {
  const structs = table.structs ?? {};
  const samples = [];
  let k = 0;
  for (const full of [true, false]) {
    for (const output of table.outputs) {
      const values = Object.fromEntries(output.fields.map((f) => [f.name, sampleValue(f.type, structs, k++, full)]));
      const expected = { type: output.type };
      for (const f of output.fields) expected[jsName(f)] = expectedJs(f.type, values[f.name], structs, f, values);
      samples.push({ output, values, expected });
    }
  }
  return samples;
}

function harnessSource(table, samples) {
  const structs = table.structs ?? {};
  const encodes = samples.map(({ output, values }) => {
    const assigns = output.fields.flatMap((f) => cppAssign(`o.${f.name}`, f.type, values[f.name], structs));
    return ['  {', `    pc::${output.name} o;`, ...assigns.map((l) => `    ${l}`), '    enc.encode(pc::Output(std::move(o)));', '  }'].join('\n');
  });
  return `#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <type_traits>
#include <vector>

#include "host/input_batches.h"
#include "host/output_encoder.h"

template <class T>
T bytesLike(const char* p, size_t n) {
  return T(p, p + n);
}

static void printHex(const void* data, size_t n) {
  for (size_t i = 0; i < n; ++i) std::printf("%02x", static_cast<const unsigned char*>(data)[i]);
}

static int encodeSamples() {
  pc::host::OutputEncoder enc;
  enc.begin(1700000000000.25);
${encodes.join('\n')}
  printHex(enc.stream().data(), enc.stream().size());
  std::printf("\\n");
  // A second drain: handles named in the first stay named.
  enc.begin(-1);
  {
    pc::PeerConnected o;
    o.peerId = "${PEERS[0]}";
    enc.encode(pc::Output(std::move(o)));
  }
  printHex(enc.stream().data(), enc.stream().size());
  std::printf("\\n");
  return 0;
}

// Prints each item's fields as hex, "null" for an absent one, or "malformed".
static int readBatch(const std::string& kind, const char* path) {
  std::ifstream file(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (kind == "OperationBatch") {
    std::vector<pc::Operation> items;
    if (!pc::host::readOperationBatch(bytes.data(), bytes.size(), &items)) {
      std::printf("malformed\\n");
      return 0;
    }
    for (const pc::Operation& op : items) {
      printHex(op.first.data(), op.first.size());
      std::printf(" ");
      if (op.second) printHex(op.second->data(), op.second->size());
      else std::printf("null");
      std::printf("\\n");
    }
    return 0;
  }
  std::vector<std::string> items;
  if (!pc::host::readTaskInputBatch(bytes.data(), bytes.size(), &items)) {
    std::printf("malformed\\n");
    return 0;
  }
  for (const std::string& input : items) {
    printHex(input.data(), input.size());
    std::printf("\\n");
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 3) return readBatch(argv[1], argv[2]);
  return encodeSamples();
}
`;
}

// Writes the generated headers for `table` into a fresh directory; returns it.
export function generatedHeaders(table) {
  const dir = mkdtempSync(join(tmpdir(), 'peercompute-host-'));
  for (const [name, text] of Object.entries(cppFiles(table))) {
    mkdirSync(join(dir, 'host'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

// Compiles the harness; returns {run(args) -> stdout, dir, dispose()}.
export function buildHarness(table, samples) {
  const dir = generatedHeaders(table);
  writeFileSync(join(dir, 'harness.cpp'), harnessSource(table, samples));
  const binary = join(dir, 'harness');
  execFileSync('g++', ['-std=c++17', '-O1', '-Wall', '-Wextra', '-Werror', '-I', join(repoRoot, 'wasm'), '-I', dir, join(dir, 'harness.cpp'), '-o', binary], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return {
    dir,
    run: (args = []) => execFileSync(binary, args, { encoding: 'utf8' }),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// Compiles only the generated encoder and readers for `table`: the compiler's
// message, or null when they compile.
export function compileError(table) {
  const dir = generatedHeaders(table);
  writeFileSync(join(dir, 'check.cpp'), '#include "host/output_encoder.h"\n#include "host/input_batches.h"\n');
  try {
    execFileSync('g++', ['-std=c++17', '-fsyntax-only', '-I', join(repoRoot, 'wasm'), '-I', dir, join(dir, 'check.cpp')], { stdio: ['ignore', 'pipe', 'pipe'] });
    return null;
  } catch (error) {
    return String(error.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
