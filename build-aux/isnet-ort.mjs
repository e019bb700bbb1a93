// SPDX-License-Identifier: GPL-3.0-or-later
//
// Helper of build-aux/check-isnet-vs-ort.sh and bench/nn/bench-isnet.sh: runs ISNet with
// onnxruntime-node (CPU) on a raw float32 input tensor, and compares raw outputs.
//
//   node isnet-ort.mjs run --ort-dir DIR --model M.onnx --input in.f32 [--output out.f32]
//                          [--runs N] [--threads 2] [--json]
//   node isnet-ort.mjs compare ours.f32 theirs.f32 [--json]
//
// DIR is a scratch folder where onnxruntime-node is installed (never the source tree).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

function parseArgs(argv) {
  const opts = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') opts.json = true;
    else if (a.startsWith('--')) opts[a.slice(2)] = argv[++i];
    else opts._.push(a);
  }
  return opts;
}

function readF32(file) {
  const buf = fs.readFileSync(file);
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

async function run(opts) {
  const require = createRequire(path.join(path.resolve(opts['ort-dir']), 'package.json'));
  const ort = require('onnxruntime-node');
  const threads = Number(opts.threads ?? 2);
  const runs = Number(opts.runs ?? 1);
  const session = await ort.InferenceSession.create(opts.model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const input = readF32(opts.input);
  if (input.length !== 3 * 1024 * 1024) throw new Error('input must be 1x3x1024x1024 float32');
  const feeds = { input: new ort.Tensor('float32', input, [1, 3, 1024, 1024]) };
  let out = null;
  const times = [];
  // one warm-up run, then `runs` timed runs; only "output" is fetched
  for (let r = 0; r <= runs; r++) {
    const t0 = process.hrtime.bigint();
    const res = await session.run(feeds, ['output']);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r > 0) times.push(ms);
    out = res.output.data;
  }
  if (opts.output) fs.writeFileSync(opts.output, Buffer.from(out.buffer, out.byteOffset, out.byteLength));
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const version = require('onnxruntime-node/package.json').version;
  if (opts.json) {
    console.log(JSON.stringify({ what: 'onnxruntime-node', version, runs, threads,
                                 median_ms: median, min_ms: times[0] }));
  } else {
    console.log(`onnxruntime-node ${version}: median ${median.toFixed(1)} ms, ` +
                `min ${times[0].toFixed(1)} ms over ${runs} runs, intraOpNumThreads=${threads}`);
  }
}

function compare(opts) {
  const [a, b] = opts._.slice(1).map(readF32);
  if (a.length !== b.length) throw new Error(`sizes differ: ${a.length} vs ${b.length}`);
  let maxAbs = 0, sumAbs = 0, inter = 0, uni = 0, maxU8 = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > maxAbs) maxAbs = d;
    sumAbs += d;
    const ma = a[i] > 0.5, mb = b[i] > 0.5;
    if (ma && mb) inter++;
    if (ma || mb) uni++;
    // the 8-bit alpha the reference pipeline derives (v * 255, truncated)
    const du = Math.abs(Math.trunc(a[i] * 255) - Math.trunc(b[i] * 255));
    if (du > maxU8) maxU8 = du;
  }
  const iou = uni === 0 ? 1 : inter / uni;
  const res = { max_abs_diff: maxAbs, mean_abs_diff: sumAbs / a.length, iou_at_0_5: iou,
                max_alpha8_diff: maxU8, foreground_fraction: uni / a.length };
  if (opts.json) console.log(JSON.stringify(res));
  else {
    console.log(`max |ours - ort| = ${maxAbs.toExponential(3)}, mean = ` +
                `${(sumAbs / a.length).toExponential(3)}, max 8-bit alpha difference = ${maxU8}`);
    console.log(`IoU of masks thresholded at 0.5 = ${iou.toFixed(5)} ` +
                `(foreground ${(100 * uni / a.length).toFixed(1)} %)`);
  }
  return iou;
}

const opts = parseArgs(process.argv.slice(2));
const mode = opts._[0];
if (mode === 'run') {
  await run(opts);
} else if (mode === 'compare') {
  const iou = compare(opts);
  process.exit(iou >= 0.99 ? 0 : 1);
} else {
  console.error('usage: isnet-ort.mjs run|compare ...');
  process.exit(2);
}
