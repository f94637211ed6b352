// 2. b3: crdt-benchmarks' [B3.1], options.replicas replicas each set key 'v'
// concurrently: the update bytes and the merge time, ours and Yjs's.
import { call } from '../support/browser.mjs';
import { reload } from './pages.mjs';
import { note, row, stats } from './report.mjs';

// Published Yjs figures from dmonad/crdt-benchmarks' README (N = 6000,
// Node.js on an Intel i5 laptop).
const PUBLISHED_B3 = { name: '[B3.1] 20√N clients concurrently set number in Map', bytes: 49_169, timeMs: 75 };

async function benchB3(page, options, log) {
  const yjs = [];
  const ours = [];
  for (let t = 0; t < options.trials; t++) {
    const runYjs = async () => {
      await reload(page);
      yjs.push(await call(page, 'b3Yjs', options.replicas));
    };
    const runOurs = async () => {
      await reload(page);
      ours.push(await call(page, 'b3Ours', options.replicas));
    };
    if (t % 2 === 1) {
      await runOurs();
      await runYjs();
    } else {
      await runYjs();
      await runOurs();
    }
    const y = yjs[yjs.length - 1];
    const o = ours[ours.length - 1];
    log(
      `  b3 trial ${t + 1}/${options.trials}: yjs ${y.bytesV2Events} B (v2 events) / ${y.bytesV1State} B (v1 state), ` +
        `merge ${y.mergeV2Ms.toFixed(1)} ms (v2 into replica 1) / ${y.mergeV1FreshMs.toFixed(1)} ms (v1 into a fresh doc); ` +
        `ours ${o.bytes} B (analytic ${o.analyticBytes} B), merge ${o.mergeMs.toFixed(1)} ms, re-apply ${o.reapplyMs.toFixed(1)} ms ` +
        `(${o.replicas} nodes created in ${o.createMs.toFixed(0)} ms, encode ${o.encodeMs.toFixed(1)} ms)`,
    );
  }
  const pick = (list, key) => stats(list.map((r) => r[key]));
  return {
    yjs: Object.fromEntries(['bytesV2Events', 'bytesV1Events', 'bytesV1State', 'mergeV2Ms', 'mergeV1FreshMs'].map((k) => [k, pick(yjs, k)])),
    ours: {
      ...Object.fromEntries(
        ['bytes', 'analyticBytes', 'wireBytes', 'mergeMs', 'reapplyMs', 'createMs', 'writeMs', 'encodeMs', 'changes'].map((k) => [k, pick(ours, k)]),
      ),
      updateBytes: { min: Math.min(...ours.map((r) => r.minUpdate)), max: Math.max(...ours.map((r) => r.maxUpdate)) },
    },
  };
}

// Runs the section in `page`, and adds its results, rows and targets.
export async function b3Section(page, options, { log, results, rows, targets }) {
  console.log(`\n2. ${PUBLISHED_B3.name}: ${options.replicas} replicas each set 'v'`);
  const b3 = await benchB3(page, options, log);
  results.b3 = { ...b3, publishedYjs: PUBLISHED_B3 };
  rows.push(note(`2. ${PUBLISHED_B3.name}, ${options.replicas} replicas (crdt-benchmarks: 20*floor(sqrt(6000)))`));
  // Yjs's B3 figure is the sum of its 'update' events: what a provider
  // sends peers. Ours is the frame a node sends its peers for the write
  // (an OwnUpdate, header included).
  const bytes = row('update bytes sent to peers vs updateV2 events', b3.ours.wireBytes.median, b3.yjs.bytesV2Events.median, 'bytes');
  rows.push(bytes);
  const bytesV1 = row('update bytes sent to peers vs V1 update events', b3.ours.wireBytes.median, b3.yjs.bytesV1Events.median, 'bytes');
  rows.push(bytesV1);
  rows.push(row('ref: encodeStateAsUpdate (names its writer) vs V1', b3.ours.bytes.median, b3.yjs.bytesV1State.median, 'bytes'));
  rows.push(row('ref: analytic encodeStateAsUpdate (PROTOCOL.md) vs V1', b3.ours.analyticBytes.median, b3.yjs.bytesV1State.median, 'bytes'));
  if (options.replicas === 1540) {
    rows.push(row('ref: update bytes sent vs published Yjs (V2)', b3.ours.wireBytes.median, PUBLISHED_B3.bytes, 'bytes'));
  }
  const merge = row('merge: applyUpdate x n into a fresh node vs V1', b3.ours.mergeMs.median, b3.yjs.mergeV1FreshMs.median);
  rows.push(merge);
  rows.push(row('ref: merge vs crdt-benchmarks (V2, replica 1)', b3.ours.mergeMs.median, b3.yjs.mergeV2Ms.median));
  rows.push(row('ref: ours re-apply all, no state change', b3.ours.reapplyMs.median, NaN));
  rows.push(row('ref: published Yjs merge (i5, Node)', NaN, PUBLISHED_B3.timeMs));
  rows.push(row('ref: ours creating the replica nodes', b3.ours.createMs.median, NaN));
  rows.push(
    note(
      `ours: ${options.replicas} real nodes in one page (enablePersistence: false); each node's write is read from its ` +
        `state.encodeStateAsUpdate() (${b3.ours.updateBytes.min}-${b3.ours.updateBytes.max} B), which re-encodes byte for byte ` +
        'with tests/js/conformance/state-wire.js; the bytes sent to peers are that write as the OwnUpdate frame the codec ' +
        'encodes (e2e/wire-frames.spec.js checks it against a real tab\'s frame); the merged node holds the winner the merge rule picks',
    ),
  );
  targets.push({ name: 'B3 update bytes <= Yjs (updateV2, as crdt-benchmarks measures)', value: bytes.value, met: bytes.value >= 1 });
  targets.push({ name: 'B3 update bytes <= Yjs (V1, the encoding Yjs providers send by default)', value: bytesV1.value, met: bytesV1.value >= 1 });
  targets.push({ name: '(not a target) B3 merge time <= Yjs (V1 into a fresh doc)', value: merge.value, met: merge.value >= 1, info: true });
}
