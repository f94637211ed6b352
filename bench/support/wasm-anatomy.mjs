// What a .wasm is made of: its sections, and its code by owner, read from
// the binary and the symbol map the Emscripten build writes beside it
// (`--emit-symbol-map`: one `index:name` line per function, names demangled
// with `\xx` escapes). For bench/package-size.mjs.

function readLeb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

const SECTION_NAMES = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'data count'];

// { sections: [{name, bytes}], imports: number of imported functions,
//   bodies: [{index, bytes}] } (index counts imports first, as names do).
export function readWasm(bytes) {
  const sections = [];
  const bodies = [];
  let imports = 0;
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at++];
    let size;
    [size, at] = readLeb(bytes, at);
    const end = at + size;
    sections.push({ name: SECTION_NAMES[id] ?? `#${id}`, bytes: size });
    if (id === 2) imports = countFunctionImports(bytes, at);
    if (id === 10) {
      let [count, p] = readLeb(bytes, at);
      for (let i = 0; i < count; i++) {
        let length;
        [length, p] = readLeb(bytes, p);
        bodies.push({ index: imports + i, bytes: length });
        p += length;
      }
    }
    at = end;
  }
  return { sections, imports, bodies };
}

function countFunctionImports(bytes, at) {
  let [count, p] = readLeb(bytes, at);
  let functions = 0;
  const skipName = () => {
    let length;
    [length, p] = readLeb(bytes, p);
    p += length;
  };
  const skipLimits = () => {
    const flags = bytes[p++];
    [, p] = readLeb(bytes, p);
    if (flags & 1) [, p] = readLeb(bytes, p);
  };
  for (let i = 0; i < count; i++) {
    skipName();
    skipName();
    const kind = bytes[p++];
    if (kind === 0) {
      functions++;
      [, p] = readLeb(bytes, p);
    } else if (kind === 1) {
      p++; // element type
      skipLimits();
    } else if (kind === 2) skipLimits();
    else p += 2; // global: type, mutability
  }
  return functions;
}

export function readSymbolMap(text) {
  const names = new Map();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) names.set(Number(line.slice(0, colon)), line.slice(colon + 1).replace(/\\([0-9a-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16))));
  }
  return names;
}

// The owner a function's code is counted under: the library it comes from,
// or the kernel class it belongs to.
export function ownerOf(name) {
  if (name.includes('nlohmann::') && !/^pc::|^\(anonymous namespace\)::KernelBinding/.test(name)) return 'nlohmann_json';
  if (/^(emscripten::|_embind|_emval)|embind/.test(name)) return 'embind';
  if (/^\(anonymous namespace\)::KernelBinding::/.test(name) || /^\(anonymous namespace\)::/.test(name)) return 'bindings (embind_module.cpp)';
  const kernel = /^(?:[\w:<>&*, ]+? )?pc::((?:\(anonymous namespace\)::)?[A-Za-z_]\w*)(::|\()/.exec(name);
  if (kernel) return kernel[2] === '(' || kernel[1].startsWith('(anonymous') ? 'pc:: free functions' : `pc::${kernel[1]}`;
  if (/^(?:[\w:<>&*, ]+? )?std::/.test(name) || /^(?:decltype|void|bool|unsigned|int|char)\b.*std::__2::/.test(name)) return 'libc++ templates (std::, as the kernel instantiates them)';
  if (/^(dlmalloc|dlfree|dlrealloc|malloc|free|realloc|calloc|emmalloc|dispose_chunk|sbrk|internal_memalign|try_realloc_chunk|prepend_alloc|tmalloc|init_)/.test(name)) return 'malloc';
  if (/^(strtod|printf_core|fmt_fp|vsnprintf|snprintf|__\w+tf\d|fmodl|frexp|scalbn|pop_arg|out|pad|fmt_|__intscan|__floatscan|decfloat|hexfloat|scanexp|__shgetc|__shlim|copysignl|wctomb|wcrtomb)/.test(name)) return 'libc: number parsing and printf';
  return 'libc and runtime';
}

// { total, code, data, groups: [{owner, bytes, functions}], top: [{name, bytes}] }
export function anatomy(wasmBytes, symbolMapText) {
  const { sections, bodies } = readWasm(wasmBytes);
  const names = readSymbolMap(symbolMapText);
  const groups = new Map();
  const functions = [];
  for (const { index, bytes } of bodies) {
    const name = names.get(index) ?? `function ${index}`;
    const owner = ownerOf(name);
    const group = groups.get(owner) ?? { owner, bytes: 0, functions: 0 };
    group.bytes += bytes;
    group.functions++;
    groups.set(owner, group);
    functions.push({ name, bytes });
  }
  const size = (n) => sections.filter((s) => s.name === n).reduce((a, s) => a + s.bytes, 0);
  return {
    total: wasmBytes.length,
    code: size('code'),
    data: size('data'),
    sections,
    groups: [...groups.values()].sort((a, b) => b.bytes - a.bytes),
    top: functions.sort((a, b) => b.bytes - a.bytes),
  };
}
