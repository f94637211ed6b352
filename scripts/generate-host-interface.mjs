// Writes both ends of the kernel-host boundary from its one definition,
// wasm/host/host_interface.json (see wasm/wire/PROTOCOL.md, "Host interface").
//
//   node scripts/generate-host-interface.mjs --cpp DIR    DIR/host/{output_encoder,input_batches,kernel_methods}.h
//   node scripts/generate-host-interface.mjs --js DIR     DIR/host/{output-decoder,input-batches}.js
//   node scripts/generate-host-interface.mjs --docs FILE  the tables of FILE's "Host interface" section
//
// CMake runs --cpp when the table or the generator changes; scripts/build.sh
// runs --js into dist/. --docs is run by hand after editing the table (the
// Node tests fail until PROTOCOL.md is current).
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inputBatchesHeader, kernelMethodsHeader, outputEncoderHeader } from './host-interface/cpp.mjs';
import { renderTables, withTables } from './host-interface/docs.mjs';
import { inputBatchesModule, outputDecoderModule } from './host-interface/js.mjs';
import { loadTable } from './host-interface/table.mjs';

export function cppFiles(table) {
  return {
    'host/output_encoder.h': outputEncoderHeader(table),
    'host/input_batches.h': inputBatchesHeader(table),
    'host/kernel_methods.h': kernelMethodsHeader(table),
  };
}

export function jsFiles(table) {
  return {
    'host/output-decoder.js': outputDecoderModule(table),
    'host/input-batches.js': inputBatchesModule(table),
  };
}

function writeAll(dir, files) {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

function main(args) {
  const table = loadTable();
  if (args.length === 0 || args.length % 2 !== 0) {
    throw new Error('usage: generate-host-interface.mjs [--cpp DIR] [--js DIR] [--docs PROTOCOL.md]');
  }
  for (let i = 0; i < args.length; i += 2) {
    const [option, target] = [args[i], args[i + 1]];
    if (option === '--cpp') writeAll(target, cppFiles(table));
    else if (option === '--js') writeAll(target, jsFiles(table));
    else if (option === '--docs') {
      const document = readFileSync(target, 'utf8');
      const updated = withTables(document, renderTables(table));
      if (updated !== document) writeFileSync(target, updated);
    } else throw new Error(`generate-host-interface.mjs: unknown option ${option}`);
  }
}

if (realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
