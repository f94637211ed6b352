// Kept equal to package.json's version; scripts/build.mjs refuses to build otherwise.
export const VERSION = '0.1.0';
