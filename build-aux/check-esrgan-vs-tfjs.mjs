// SPDX-License-Identifier: GPL-3.0-or-later
// Runs an @upscalerjs TF.js layers model with @tensorflow/tfjs (pure JS CPU backend) on the
// input tensor catena-nn-run dumped, and compares with engine/nn's output.
//
//   node build-aux/check-esrgan-vs-tfjs.mjs TFJS_DIR MODEL_DIR INPUT.f32 OURS.f32 SIDE
//   node build-aux/check-esrgan-vs-tfjs.mjs bench TFJS_DIR MODEL_DIR SIDE RUNS
//
// (bench: one warm-up, then RUNS timed predictions on a SIDE × SIDE input; one JSON line
// with the median and min in ms — used by bench/nn/bench-esrgan.sh.)
// INPUT.f32: 1×3×SIDE×SIDE float32 (NCHW, 0…255, as the RDN models take it); OURS.f32:
// 1×3×(SIDE·s)×(SIDE·s). Prints one JSON line: PSNR (peak 255) on the raw outputs, on the
// outputs clipped to 0…255 as upscalerjs does, max and mean absolute difference.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const benchMode = args[0] === 'bench';
const [tfjsDir, modelDir, inPath, oursPath, sideArg] = benchMode
  ? [args[1], args[2], null, null, args[3]] : args;
const require = createRequire(path.join(tfjsDir, 'package.json'));
const tf = require('@tensorflow/tfjs');
await tf.setBackend('cpu');

const side = Number(sideArg);
const json = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8'));
const specs = json.weightsManifest.flatMap((g) => g.weights);
const shards = json.weightsManifest.flatMap((g) => g.paths)
  .map((p) => fs.readFileSync(path.join(modelDir, p)));
const all = Buffer.concat(shards);
const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
const model = await tf.loadLayersModel(tf.io.fromMemory({
  modelTopology: json.modelTopology, weightSpecs: specs, weightData,
}));

if (benchMode) {
  const side = Number(sideArg), runs = Number(args[4] || 5);
  const x = tf.randomUniform([1, side, side, 3], 0, 255, 'float32', 1);
  const times = [];
  for (let r = 0; r <= runs; r++) {
    const t0 = process.hrtime.bigint();
    const y = model.predict(x);
    y.dataSync();
    y.dispose();
    if (r > 0) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ what: 'tfjs', backend: tf.getBackend(), version: tf.version.tfjs,
    side, runs, median_ms: times[Math.floor(times.length / 2)], min_ms: times[0] }));
  process.exit(0);
}

const readF32 = (p) => {
  const b = fs.readFileSync(p);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const nchw = readF32(inPath);
if (nchw.length !== 3 * side * side) throw new Error(`${inPath} is not 1×3×${side}×${side}`);
const x = tf.tensor4d(nchw, [1, 3, side, side]).transpose([0, 2, 3, 1]);
const t0 = Date.now();
const y = model.predict(x);
const ref = y.transpose([0, 3, 1, 2]).dataSync(); // back to NCHW
const ms = Date.now() - t0;
const ours = readF32(oursPath);
if (ours.length !== ref.length) {
  throw new Error(`sizes differ: ours ${ours.length}, tfjs ${ref.length} (shape ${y.shape})`);
}
const clip = (v) => Math.min(255, Math.max(0, v));
let se = 0, seClip = 0, maxd = 0, sumd = 0;
for (let i = 0; i < ref.length; i++) {
  const d = ours[i] - ref[i];
  const dc = clip(ours[i]) - clip(ref[i]);
  se += d * d;
  seClip += dc * dc;
  sumd += Math.abs(d);
  maxd = Math.max(maxd, Math.abs(d));
}
const psnr = (s) => (s === 0 ? Infinity : 10 * Math.log10((255 * 255) / (s / ref.length)));
console.log(JSON.stringify({
  model: path.basename(modelDir), side, out_shape: y.shape, tfjs_ms: ms,
  psnr_db: Number(psnr(se).toFixed(2)), psnr_clipped_db: Number(psnr(seClip).toFixed(2)),
  max_abs: Number(maxd.toExponential(3)), mean_abs: Number((sumd / ref.length).toExponential(3)),
}));
