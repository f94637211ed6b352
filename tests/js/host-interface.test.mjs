// The kernel-host boundary is defined once, in wasm/host/host_interface.json,
// and both of its ends are generated from it. These check that the ends agree
// with each other and with the table: the C++ encoder's stream (built natively
// with g++) decodes in JS to exactly the table's records; batches the JS
// writers make read back in C++ as written; a struct that disagrees with the
// table does not compile; PROTOCOL.md's tables are the table's; and the
// built wasm module binds exactly the table's methods.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { KernelOutputDecoder, OUTPUT_TYPES } from '../../dist/host/output-decoder.js';
import { operationBatchBound, taskInputBatchBound, writeOperationBatch, writeTaskInputBatch } from '../../dist/host/input-batches.js';
import { loadCore } from '../../dist/wasm-loader.js';
import { BEGIN_MARKER, END_MARKER, renderTables } from '../../scripts/host-interface/docs.mjs';
import { loadTable } from '../../scripts/host-interface/table.mjs';
import { buildHarness, compileError, repoRoot, sampleOutputs } from './host-interface/native-harness.mjs';

const table = loadTable();
const samples = sampleOutputs(table);
const harness = buildHarness(table, samples);
after(() => harness.dispose());
const fromHex = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
const toHex = (bytes) => Buffer.from(bytes).toString('hex');
const utf8 = new TextEncoder();

describe('the output stream: the C++ encoder and the JS decoder agree with the table', () => {
  const [first, second] = harness.run().trim().split('\n').map(fromHex);
  const decoder = new KernelOutputDecoder();
  const decoded = decoder.decode(first);

  it('OUTPUT_TYPES are the table’s types, in its order', () => {
    assert.deepEqual(OUTPUT_TYPES, table.outputs.map((o) => o.type));
  });

  it('the stream starts with the next timeout', () => {
    assert.equal(decoded.timeout, 1700000000000.25);
  });

  it('every record, with every field type, optionals present and absent, decodes to what was encoded', () => {
    assert.equal(decoded.outputs.length, samples.length);
    decoded.outputs.forEach((output, i) => assert.deepEqual(output, samples[i].expected, `${samples[i].output.name}, sample ${i}`));
  });

  it('bytes are views into the stream unless the table copies them', () => {
    for (const [i, output] of decoded.outputs.entries()) {
      for (const field of samples[i].output.fields) {
        const value = output[field.js ?? field.name];
        if (!(value instanceof Uint8Array)) continue;
        const copied = field.copy === true || field.bytesWhen !== undefined;
        assert.equal(value.buffer === first.buffer, !copied, `${samples[i].output.name}.${field.name}`);
      }
    }
  });

  it('peer handles named in one drain still name their peer in the next', () => {
    const { timeout, outputs } = decoder.decode(second);
    assert.equal(timeout, -1);
    assert.deepEqual(outputs, [{ type: 'peer-connected', peerId: 'peer-a' }]);
    // One u8 record number and a u32 handle after the header: no new Intern record.
    assert.equal(second.length, 8 + 1 + 4);
    assert.ok(decoder.handleOf('peer-a') > 0);
    assert.equal(decoder.handleOf('never-seen'), 0);
  });
});

describe('the input batches: the JS writers and the C++ readers agree with the table', () => {
  function written(bound, write) {
    const buffer = new Uint8Array(bound + 16).fill(0xee);
    const end = write(buffer, 3);
    assert.ok(end - 3 <= bound, 'the batch fits its bound');
    return buffer.slice(3, end);
  }
  function readInC(kind, bytes) {
    const path = join(harness.dir, `${kind}.bin`);
    writeFileSync(path, bytes);
    return harness.run([kind, path]).split('\n').slice(0, -1); // one line an item
  }

  // Short ASCII is copied a unit at a time and the rest encoded: both sides
  // of that line (64 and 65 units), non-ASCII at a short text's end, and DEL.
  const ops = ['k1', 'v1', 'ключ', null, 'x'.repeat(100), 'é✓😀', 'empty', '', 'a'.repeat(64), 'b'.repeat(65), `${'c'.repeat(63)}é`, 'ascii then 😀', '\u007f', '\u0080'];
  const operations = written(operationBatchBound(ops), (b, at) => writeOperationBatch(b, at, ops));
  const inputs = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(300).fill(9)];
  const taskInputs = written(taskInputBatchBound(inputs), (b, at) => writeTaskInputBatch(b, at, inputs));

  it('an OperationBatch reads back as written, deletes (null) included', () => {
    const expected = [];
    for (let i = 0; i < ops.length; i += 2) expected.push(`${toHex(utf8.encode(ops[i]))} ${ops[i + 1] === null ? 'null' : toHex(utf8.encode(ops[i + 1]))}`);
    assert.deepEqual(readInC('OperationBatch', operations), expected);
  });

  it('a slice of the operations (from, to) is a batch of its own', () => {
    const slice = written(operationBatchBound(ops, 2, 6), (b, at) => writeOperationBatch(b, at, ops, 2, 6));
    assert.equal(readInC('OperationBatch', slice).length, 2);
    assert.equal(operations.length, 4 + ops.reduce((n, op) => n + 4 + (op === null ? 0 : utf8.encode(op).length), 0), 'exactly the bytes the batch needs');
  });

  it('a TaskInputBatch reads back as written', () => {
    assert.deepEqual(readInC('TaskInputBatch', taskInputs), inputs.map(toHex));
  });

  it('a batch cut short, with bytes left over, or with a count its bytes cannot hold is refused', () => {
    const tooMany = operations.slice();
    new DataView(tooMany.buffer).setUint32(0, 0xffffffff, true);
    for (const bad of [operations.subarray(0, operations.length - 1), Uint8Array.of(...operations, 0), tooMany, new Uint8Array(2)]) {
      assert.deepEqual(readInC('OperationBatch', bad), ['malformed']);
    }
    assert.deepEqual(readInC('TaskInputBatch', taskInputs.subarray(0, 10)), ['malformed']);
  });
});

describe('a table that disagrees with wasm/host/host_outputs.h does not compile', () => {
  const mutated = (change) => {
    const copy = structuredClone(table);
    change(copy);
    return copy;
  };
  const find = (t, name) => t.outputs.find((o) => o.name === name);

  it('the table as it is compiles', () => {
    assert.equal(compileError(table), null);
  });

  it('two outputs in another order than pc::Output', () => {
    const error = compileError(mutated((t) => ([t.outputs[0], t.outputs[1]] = [t.outputs[1], t.outputs[0]])));
    assert.match(error, /alternative 0 of pc::Output must be RouteSend/);
  });

  it('a field of another type', () => {
    const error = compileError(mutated((t) => (find(t, 'OpenConnection').fields[1].type = 'u32')));
    assert.match(error, /OpenConnection::initiator is u32/);
  });

  it('a struct with a field the table does not list', () => {
    const error = compileError(mutated((t) => find(t, 'SendData').fields.splice(1, 1)));
    assert.match(error, /checkFieldCount\(const pc::SendData&/);
  });

  it('an output the table does not list', () => {
    const error = compileError(mutated((t) => t.outputs.pop()));
    assert.match(error, /lists 22 outputs/);
  });
});

describe('wasm/wire/PROTOCOL.md', () => {
  it('its host-interface tables are the table’s (run: node scripts/generate-host-interface.mjs --docs wasm/wire/PROTOCOL.md)', () => {
    const document = readFileSync(join(repoRoot, 'wasm/wire/PROTOCOL.md'), 'utf8');
    const begin = document.indexOf(BEGIN_MARKER);
    const end = document.indexOf(END_MARKER);
    assert.ok(begin >= 0 && end > begin, 'the markers are there');
    assert.equal(document.slice(begin + BEGIN_MARKER.length, end).trim(), renderTables(table));
  });
});

describe('the built wasm module', () => {
  it('binds exactly the table’s input methods on Kernel', async () => {
    const core = await loadCore();
    const bound = Object.getOwnPropertyNames(core.Kernel.prototype).filter((name) => name !== 'constructor');
    assert.deepEqual(bound.sort(), table.methods.map((m) => m.name).sort());
  });
});
