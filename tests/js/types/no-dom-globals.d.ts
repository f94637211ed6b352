// The one global the consumer uses that ES2022 lacks, for the check without
// the DOM lib (as in a worker-less or server project): the package's own
// declarations must need nothing from the DOM.
declare const console: { log(...args: unknown[]): void };
