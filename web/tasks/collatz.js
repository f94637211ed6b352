// An example app task for PeerCompute's registerTask(): an ES module whose
// export every worker imports. It gets one unit's input and returns its
// result; both are plain data (JSON-like values and typed arrays).
//
//   node.getComputeManager().registerTask('collatz', { module: '/tasks/collatz.js', export: 'longestChain' });
//
// longestChain({from, to}): the start in [from, to) with the longest Collatz
// chain, and that chain's length in steps.
export function longestChain({ from, to }) {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 1 || to < from) {
    throw new RangeError('input must be {from, to} with 1 <= from <= to');
  }
  let best = { start: from, steps: 0 };
  for (let n = from; n < to; n++) {
    let steps = 0;
    for (let x = n; x !== 1; steps++) x = x % 2 === 0 ? x / 2 : 3 * x + 1;
    if (steps > best.steps) best = { start: n, steps };
  }
  return best;
}

// For tests of failure handling: a task that always throws, and one whose
// result is not data.
export function alwaysThrows() {
  throw new Error('this task always fails');
}

export function returnsFunction() {
  return { f: () => 1 };
}
