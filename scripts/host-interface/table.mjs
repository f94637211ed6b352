// Reads wasm/host/host_interface.json and checks it, so the generators can
// trust it: a mistake in the table stops the build here, in words, instead of
// as a C++ or JavaScript error in generated code.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TABLE_PATH = fileURLToPath(new URL('../../wasm/host/host_interface.json', import.meta.url));

export const SCALARS = new Set(['bool', 'u32', 'u64', 'f64', 'str', 'bytes', 'peer']);
const BATCH_TYPES = new Set(['str', 'bytes', 'nullable-str']);
const METHOD_PARAMS = new Set(['str', 'f64', 'bool', 'u32', 'size', 'peer']);
const METHOD_RETURNS = new Set(['void', 'error', 'json', 'pointer', 'value']);

export function loadTable(path = TABLE_PATH) {
  const table = JSON.parse(readFileSync(path, 'utf8'));
  checkTable(table);
  return table;
}

// The name a type has in messages and documents: str, {list: peer}, ...
export function typeName(type) {
  if (typeof type === 'string') return type;
  if (type.optional !== undefined) return `optional ${typeName(type.optional)}`;
  return `list of ${typeName(type.list)}`;
}

export function containsPeer(type, structs) {
  if (type === 'peer') return true;
  if (typeof type === 'string') return structs[type]?.fields.some((f) => containsPeer(f.type, structs)) ?? false;
  return containsPeer(type.optional ?? type.list, structs);
}

export function jsName(field) {
  return field.js ?? field.name;
}

function fail(where, why) {
  throw new Error(`wasm/host/host_interface.json: ${where}: ${why}`);
}

// `nested`: inside an optional or a list, where a field of its own type
// (bytes, a list) cannot be: the decoders read those as statements, not
// expressions.
function checkType(type, structs, where, nested = false) {
  if (typeof type === 'string') {
    if (type === 'bytes' && nested) fail(where, 'bytes only as a field of its own');
    if (!SCALARS.has(type) && !structs[type]) fail(where, `unknown type '${type}'`);
    return;
  }
  const keys = Object.keys(type ?? {});
  if (keys.length !== 1 || !['optional', 'list'].includes(keys[0])) fail(where, `a type is a name, {optional: T} or {list: T}`);
  if (keys[0] === 'list' && nested) fail(where, 'a list only as a field of its own');
  checkType(type[keys[0]], structs, where, true);
}

function checkFields(fields, structs, where) {
  if (!Array.isArray(fields)) fail(where, 'fields must be a list');
  const names = new Set();
  fields.forEach((field, i) => {
    const at = `${where}.${field.name ?? i}`;
    if (!/^[a-z][A-Za-z0-9]*$/.test(field.name ?? '')) fail(at, 'a field needs a name in lowerCamelCase');
    if (names.has(jsName(field))) fail(at, 'the name is taken by another field');
    names.add(jsName(field));
    checkType(field.type, structs, at);
    if (field.copy !== undefined && field.type !== 'bytes') fail(at, 'only bytes can be copied');
    if (field.bytesWhen !== undefined) {
      const flag = fields.slice(0, i).find((f) => f.name === field.bytesWhen);
      if (field.type !== 'str' || flag?.type !== 'bool') fail(at, 'bytesWhen makes a str field bytes when an earlier bool field is true');
    }
  });
}

function checkTable(table) {
  const structs = table.structs ?? {};
  for (const [name, struct] of Object.entries(structs)) {
    if (SCALARS.has(name)) fail(`structs.${name}`, 'the name of a type');
    checkFields(struct.fields, structs, `structs.${name}`);
    // A struct is decoded as one expression (an element of a list).
    if (struct.fields.some((f) => f.type.list !== undefined || structs[f.type] || f.bytesWhen)) {
      fail(`structs.${name}`, 'a struct holds no list, struct nor bytesWhen');
    }
  }
  const header = table.stream?.header;
  if (header?.length !== 1 || header[0].type !== 'f64') fail('stream.header', 'the stream starts with one f64, the next timeout');
  const intern = table.stream.intern;
  if (intern?.number !== 0 || intern.fields?.map((f) => `${f.name}:${f.type}`).join() !== 'handle:u32,peerId:str') {
    fail('stream.intern', 'record 0 is Intern {handle: u32, peerId: str}');
  }
  const names = new Set(['Intern']);
  const types = new Set();
  table.outputs.forEach((output, i) => {
    const where = `outputs[${i}] ${output.name}`;
    if (output.number !== i + 1) fail(where, `its number must be ${i + 1}: outputs are numbered in the order of pc::Output, from 1`);
    if (i + 1 > 255) fail(where, 'a record number is one byte');
    if (!/^[A-Z][A-Za-z0-9]*$/.test(output.name ?? '') || names.has(output.name)) fail(where, 'needs a C++ struct name of its own');
    if (!/^[a-z][a-z0-9-]*$/.test(output.type ?? '') || types.has(output.type)) fail(where, 'needs a JS type of its own, such as route-open');
    names.add(output.name);
    types.add(output.type);
    checkFields(output.fields, structs, where);
    if (output.fields.some((f) => jsName(f) === 'type')) fail(where, "'type' is the JS name of the output's type, not of a field");
  });
  for (const batch of table.inputBatches) {
    const where = `inputBatches ${batch.name}`;
    if (!/^[A-Z][A-Za-z0-9]*Batch$/.test(batch.name ?? '')) fail(where, 'a batch is named like FooBatch');
    if (typeof batch.cpp !== 'string') fail(where, 'cpp names the C++ type of an item');
    for (const field of batch.item) if (!BATCH_TYPES.has(field.type)) fail(`${where}.${field.name}`, `a batch item field is ${[...BATCH_TYPES].join(', ')}`);
  }
  const methods = new Set();
  for (const method of table.methods) {
    const where = `methods ${method.name}`;
    if (methods.has(method.name)) fail(where, 'listed twice');
    methods.add(method.name);
    for (const [name, type] of method.params) if (!METHOD_PARAMS.has(type)) fail(`${where}(${name})`, `unknown parameter type '${type}'`);
    if (!METHOD_RETURNS.has(method.returns)) fail(where, `unknown return type '${method.returns}'`);
    if (method.reads && !table.inputBatches.some((b) => b.name === method.reads)) fail(where, `reads an unknown batch '${method.reads}'`);
  }
}
