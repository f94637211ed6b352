// Makes packages look uninstalled to this process, as on a machine where the
// app never ran `npm i` for them: `node --import ./hide-packages.mjs` with
// HIDE_PACKAGES="node-datachannel ws". The file registers itself as a module
// resolve hook; the import of a hidden package, or of a path inside it, fails
// as Node fails for a missing one (ERR_MODULE_NOT_FOUND).
import { register } from 'node:module';

const hidden = (process.env.HIDE_PACKAGES ?? '').split(/\s+/).filter(Boolean);

export async function resolve(specifier, context, next) {
  if (hidden.some((name) => specifier === name || specifier.startsWith(`${name}/`))) {
    const error = new Error(`Cannot find package '${specifier}' imported from ${context.parentURL}`);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}

// Registered when imported with --import, not when loaded as the hook itself.
if (!process.env.HIDE_PACKAGES_HOOK) {
  process.env.HIDE_PACKAGES_HOOK = '1';
  register(import.meta.url);
}
