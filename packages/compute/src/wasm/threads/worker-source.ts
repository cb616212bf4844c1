/**
 * The body of each worker thread of the pool (pool.ts), started with `eval: true` so that it
 * needs no file of its own (the same code then runs from dist/ and under ts-jest, and a
 * coverage instrumenter cannot rewrite it). It needs nothing but what it is given:
 *
 *   workerData = { control, slot, slotInts, memory, port }
 *
 * control: a SharedArrayBuffer of Int32 slots, one per worker, laid out as in pool.ts
 * (SEQ, DONE, STATUS, WORDS, then the calls); memory: the shared arena (a WebAssembly.Memory);
 * port: where the pool posts { id, module, name } for each function it defines, read
 * synchronously here (receiveMessageOnPort), because this thread never returns to its event
 * loop: it blocks in Atomics.wait until the pool bumps SEQ, runs the calls, stores STATUS
 * (0 done, 1 a call threw: its message goes out on the port) and DONE = SEQ, and notifies.
 * SEQ = -1 stops it.
 *
 * A call is [function id, argument count, ...i32 arguments], run in order.
 */
export const WORKER_SOURCE = `
'use strict';
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { control, slot, slotInts, memory, port } = workerData;
const SEQ = 0, DONE = 1, STATUS = 2, WORDS = 3, CALLS = 4;
const ctl = new Int32Array(control, slot * slotInts * 4, slotInts);
const fns = [];
let seen = 0;
for (;;) {
  Atomics.wait(ctl, SEQ, seen);
  const seq = Atomics.load(ctl, SEQ);
  if (seq === seen) continue;
  seen = seq;
  if (seq === -1) break;
  let status = 0;
  try {
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
      const { id, module, name } = m.message;
      fns[id] = new WebAssembly.Instance(module, { env: { memory } }).exports[name];
    }
    const end = CALLS + ctl[WORDS];
    for (let i = CALLS; i < end; ) {
      const fn = fns[ctl[i]];
      const argc = ctl[i + 1];
      fn(...ctl.subarray(i + 2, i + 2 + argc));
      i += 2 + argc;
    }
  } catch (err) {
    status = 1;
    port.postMessage(String(err && err.message ? err.message : err));
  }
  Atomics.store(ctl, STATUS, status);
  Atomics.store(ctl, DONE, seq);
  Atomics.notify(ctl, DONE);
}
`;
