// The public entry point of the peercompute package.
import { NodeKernel } from './node-kernel.js';

export { NodeKernel } from './node-kernel.js';
export { DEFAULT_CONFIG } from './config.js';
export { VERSION } from './version.js';

// Returns a node that is initialized but not started, as the original did.
export async function createNode(config = {}) {
  const node = new NodeKernel(config);
  await node.initialize();
  return node;
}
