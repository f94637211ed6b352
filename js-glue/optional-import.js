// The optional peer dependencies (classic-level, node-datachannel, ws): each
// is imported only in Node.js, only when the node needs it, and by a
// specifier that bundlers do not follow, so that browser bundles never pull
// it in. Where one is missing or broken, the error names the package and the
// command that installs it.

// Bundlers leave an import of a variable alone (Vite is told so, too).
export const importModule = (specifier) => import(/* @vite-ignore */ specifier);

// The command that installs an optional package beside peercompute.
export const installCommand = (packageName) => `npm i ${packageName}`;

// The module `specifier` of the package packageName (the package itself
// unless a subpath is named), imported by importPackage(specifier), which
// tests replace to simulate a missing package. Where that fails, an Error
// (the failure as its cause) that reads `${purpose} the package …, which`
// then: is not installed, with the command that installs it; or could not be
// loaded, why, and the command that reinstalls it.
export async function importOptional(packageName, purpose, { specifier = packageName, importPackage = importModule } = {}) {
  try {
    return await importPackage(specifier);
  } catch (error) {
    const install = installCommand(packageName);
    const missing = error?.code === 'ERR_MODULE_NOT_FOUND';
    throw new Error(
      `${purpose} the package ${packageName}, which ` +
        (missing ? `is not installed. Install it beside peercompute: ${install}` : `could not be loaded (${error?.message ?? error}). Reinstall it: ${install}`),
      { cause: error },
    );
  }
}
