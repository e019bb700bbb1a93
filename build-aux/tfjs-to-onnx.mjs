// SPDX-License-Identifier: GPL-3.0-or-later
//
// Converts a TF.js layers model (model.json + weight shards) into an ONNX model with a fixed
// 1×C×H×W input, so that onnxruntime can run the same network as engine/nn. Independent of
// engine/nn on purpose: it gives bench/nn/bench-esrgan.sh a genuine peer and cross-checks
// engine/nn's TF.js loader. Written from Keras' and ONNX's documented semantics.
//
//   node build-aux/tfjs-to-onnx.mjs --protobufjs-dir DIR --model M/model.json --side H[xW]
//                                   --output OUT.onnx [--proto onnx.proto] [--quiet]
//
// DIR is a scratch folder where the protobufjs npm package is installed (never the source
// tree); --proto defaults to Debian's /usr/include/onnx/onnx.proto (libonnx-dev). Opset 13,
// IR version 7. NHWC becomes NCHW: Conv2D kernels HWIO → OIHW, "same" padding becomes the
// explicit pads TensorFlow uses (the smaller half before), Concatenate's axis is remapped.
// Layer classes: exactly those of the @upscalerjs RDN models — InputLayer, Conv2D,
// Activation, Add, Concatenate, UpSampling2D (nearest); anything else is refused, listing
// every unsupported class. The graph keeps the model's own ranges (0…255 in and out for
// the RDN models); the input and output keep the Keras layer names.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const FLOAT = 1; // onnx.TensorProto.DataType.FLOAT
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 }; // onnx.AttributeProto.AttributeType

class ConvertError extends Error {}

function fail(msg) {
  throw new ConvertError(msg);
}

const OPTIONS = ['protobufjs-dir', 'model', 'side', 'output', 'proto'];

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quiet') opts.quiet = true;
    else if (OPTIONS.includes(a.slice(2)) && i + 1 < argv.length) opts[a.slice(2)] = argv[++i];
    else fail(`unexpected argument ${a}`);
  }
  for (const k of OPTIONS.slice(0, 4))
    if (opts[k] === undefined) fail(`--${k} is required`);
  const m = /^(\d+)(?:x(\d+))?$/.exec(opts.side);
  if (!m) fail('--side takes H or HxW');
  opts.h = Number(m[1]);
  opts.w = Number(m[2] ?? m[1]);
  if (opts.h < 1 || opts.w < 1 || opts.h > 65536 || opts.w > 65536) fail('--side out of range');
  return opts;
}

// ---- weights ----

function readWeights(modelPath, json) {
  const dir = path.dirname(modelPath);
  const weights = new Map();
  for (const group of json.weightsManifest ?? []) {
    const bufs = group.paths.map((p) => {
      if (path.isAbsolute(p) || p.split(/[\\/]/).includes('..')) fail(`shard path ${p} refused`);
      return fs.readFileSync(path.join(dir, p));
    });
    const data = Buffer.concat(bufs);
    let off = 0;
    for (const spec of group.weights) {
      if ((spec.dtype ?? 'float32') !== 'float32' || spec.quantization)
        fail(`weight ${spec.name}: only unquantized float32 weights are supported`);
      const n = spec.shape.reduce((a, b) => a * b, 1);
      if (off + 4 * n > data.length) fail(`weight ${spec.name} runs past the end of its shards`);
      // copy: shard buffers need not be 4-byte aligned
      const f = new Float32Array(n);
      Buffer.from(f.buffer).set(data.subarray(off, off + 4 * n));
      if (weights.has(spec.name)) fail(`weight ${spec.name} is listed twice`);
      weights.set(spec.name, { shape: spec.shape, data: f, used: false });
      off += 4 * n;
    }
    if (off !== data.length) fail(`shards of ${group.paths.join(', ')} are longer than listed`);
  }
  return weights;
}

function takeWeight(weights, layer, what, rank) {
  const w = weights.get(`${layer}/${what}`);
  if (!w) fail(`layer ${layer}: weight ${layer}/${what} is missing from the manifest`);
  if (w.shape.length !== rank) fail(`layer ${layer}: ${what} has rank ${w.shape.length}`);
  w.used = true;
  return w;
}

// ---- graph building ----

class Builder {
  constructor() {
    this.nodes = [];
    this.inits = [];
    this.names = new Set();
  }

  fresh(name) {
    let n = name, i = 1;
    while (this.names.has(n)) n = `${name}:${i++}`;
    this.names.add(n);
    return n;
  }

  init(name, dims, data) {
    const n = this.fresh(name);
    this.inits.push({ name: n, dims, data_type: FLOAT,
                      raw_data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) });
    return n;
  }

  node(op, inputs, name, attrs = {}) {
    const out = this.fresh(name);
    const attribute = Object.entries(attrs).map(([k, v]) => {
      if (typeof v === 'string') return { name: k, type: ATTR.STRING, s: Buffer.from(v) };
      if (Array.isArray(v)) return { name: k, type: ATTR.INTS, ints: v };
      if (Number.isInteger(v)) return { name: k, type: ATTR.INT, i: v };
      return { name: k, type: ATTR.FLOAT, f: v };
    });
    this.nodes.push({ op_type: op, name: out, input: inputs, output: [out], attribute });
    return out;
  }
}

const ACTIVATIONS = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh' };

function activation(b, x, act, layer, out) {
  if (act === undefined || act === null || act === 'linear') return x;
  if (!(act in ACTIVATIONS)) fail(`layer ${layer}: activation "${act}" is not supported`);
  return b.node(ACTIVATIONS[act], [x], out);
}

function pair(cfg, key, dflt, name) {
  const v = cfg[key] ?? dflt;
  const p = Array.isArray(v) ? v : [v, v];
  if (p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= 1))
    fail(`layer ${name}: ${key} must be two positive integers`);
  return p;
}

// TensorFlow's padding for one spatial axis: "same" pads max(needed, 0) with the odd pixel
// after; "valid" none.
function convAxis(inSize, k, s, d, same) {
  const span = d * (k - 1) + 1;
  if (!same) {
    if (inSize < span) return null;
    return { out: Math.floor((inSize - span) / s) + 1, before: 0, after: 0 };
  }
  const out = Math.ceil(inSize / s);
  const total = Math.max((out - 1) * s + span - inSize, 0);
  return { out, before: Math.floor(total / 2), after: total - Math.floor(total / 2) };
}

function convert(json, weights, h, w) {
  const topo = json.modelTopology;
  if (json.format && json.format !== 'layers-model')
    fail(`format ${json.format} is not a layers model`);
  const mc = topo?.model_config ?? topo;
  if (!mc || !['Functional', 'Model'].includes(mc.class_name))
    fail('only Keras functional models are supported');
  const cfg = mc.config;
  const layers = cfg.layers;
  const known = new Set(['InputLayer', 'Conv2D', 'Activation', 'Add', 'Concatenate',
                         'UpSampling2D']);
  const unknown = [...new Set(layers.map((l) => l.class_name).filter((c) => !known.has(c)))];
  if (unknown.length) fail(`unsupported layer classes: ${unknown.join(', ')}`);
  if (cfg.input_layers.length !== 1 || cfg.output_layers.length !== 1)
    fail('only one input and one output are supported');

  const byName = new Map(layers.map((l) => [l.name, l]));
  const inputsOf = (l) => {
    if (l.class_name === 'InputLayer') return [];
    if (!Array.isArray(l.inbound_nodes) || l.inbound_nodes.length !== 1)
      fail(`layer ${l.name}: called ${l.inbound_nodes?.length ?? 0} times ` +
           '(shared layers are not supported)');
    return l.inbound_nodes[0].map((e) => {
      if (e[1] !== 0 || e[2] !== 0 || (e[3] && Object.keys(e[3]).length))
        fail(`layer ${l.name}: only single-output layers called without arguments`);
      if (!byName.has(e[0])) fail(`layer ${l.name}: unknown input ${e[0]}`);
      return e[0];
    });
  };

  // Kahn order, file order among ready layers
  const done = new Set(), order = [];
  while (order.length < layers.length) {
    const before = order.length;
    for (const l of layers)
      if (!done.has(l.name) && inputsOf(l).every((n) => done.has(n))) {
        done.add(l.name);
        order.push(l);
      }
    if (order.length === before) fail('the layers form a cycle');
  }

  const b = new Builder();
  const val = new Map(); // layer name → { name, shape: NCHW }
  let graphInput = null;
  for (const l of order) {
    const c = l.config ?? {};
    const name = l.name;
    if (c.dtype && c.dtype !== 'float32') fail(`layer ${name}: dtype ${c.dtype}`);
    if (c.data_format && c.data_format !== 'channels_last') fail(`layer ${name}: ${c.data_format}`);
    const ins = inputsOf(l).map((n) => val.get(n));
    const x = ins[0];
    switch (l.class_name) {
      case 'InputLayer': {
        const s = c.batch_input_shape;
        if (!Array.isArray(s) || s.length !== 4 || ![null, 1].includes(s[0])
            || !Number.isInteger(s[3]))
          fail(`layer ${name}: batch_input_shape must be [null or 1, H, W, C]`);
        if ((s[1] !== null && s[1] !== h) || (s[2] !== null && s[2] !== w))
          fail(`the model takes ${s[1]}×${s[2]} inputs, not ${h}×${w}`);
        b.names.add(name);
        graphInput = { name, shape: [1, s[3], h, w] };
        val.set(name, graphInput);
        break;
      }
      case 'Conv2D': {
        const [kh, kw] = pair(c, 'kernel_size', null, name);
        const [sh, sw] = pair(c, 'strides', 1, name);
        const [dh, dw] = pair(c, 'dilation_rate', 1, name);
        const groups = c.groups ?? 1;
        const f = c.filters;
        if (!['same', 'valid'].includes(c.padding)) fail(`layer ${name}: padding ${c.padding}`);
        const same = c.padding === 'same';
        const k = takeWeight(weights, name, 'kernel', 4);
        const ci = x.shape[1];
        if (k.shape[0] !== kh || k.shape[1] !== kw || k.shape[3] !== f
            || k.shape[2] * groups !== ci)
          fail(`layer ${name}: kernel ${k.shape.join('×')} does not fit ${ci} input channels`);
        const cig = k.shape[2];
        // HWIO → OIHW
        const oihw = new Float32Array(k.data.length);
        for (let o = 0; o < f; o++)
          for (let i = 0; i < cig; i++)
            for (let y = 0; y < kh; y++)
              for (let xx = 0; xx < kw; xx++)
                oihw[((o * cig + i) * kh + y) * kw + xx] =
                  k.data[((y * kw + xx) * cig + i) * f + o];
        const inputs = [x.name, b.init(`${name}/kernel`, [f, cig, kh, kw], oihw)];
        if (c.use_bias !== false) {
          const bias = takeWeight(weights, name, 'bias', 1);
          if (bias.shape[0] !== f) fail(`layer ${name}: bias has ${bias.shape[0]} elements`);
          inputs.push(b.init(`${name}/bias`, [f], bias.data));
        }
        const ay = convAxis(x.shape[2], kh, sh, dh, same);
        const ax = convAxis(x.shape[3], kw, sw, dw, same);
        if (!ay || !ax) fail(`layer ${name}: the input is smaller than the kernel`);
        const y = b.node('Conv', inputs, name, {
          kernel_shape: [kh, kw], strides: [sh, sw], dilations: [dh, dw], group: groups,
          pads: [ay.before, ax.before, ay.after, ax.after],
        });
        val.set(name, { name: activation(b, y, c.activation, name, `${name}:${c.activation}`),
                        shape: [1, f, ay.out, ax.out] });
        break;
      }
      case 'Activation':
        if (!c.activation || c.activation === 'linear')
          val.set(name, { name: b.node('Identity', [x.name], name), shape: x.shape });
        else
          val.set(name, { name: activation(b, x.name, c.activation, name, name), shape: x.shape });
        break;
      case 'Add': {
        if (ins.length < 2) fail(`layer ${name}: Add needs two inputs or more`);
        for (const t of ins)
          if (t.shape.join() !== x.shape.join()) fail(`layer ${name}: input shapes differ`);
        const y = b.node(ins.length === 2 ? 'Add' : 'Sum', ins.map((t) => t.name), name);
        val.set(name, { name: y, shape: x.shape });
        break;
      }
      case 'Concatenate': {
        const nhwc = c.axis ?? -1;
        const axis = { '-1': 1, 3: 1, 1: 2, '-3': 2, 2: 3, '-2': 3 }[nhwc];
        if (axis === undefined) fail(`layer ${name}: axis ${nhwc} cannot be concatenated`);
        const shape = [...x.shape];
        shape[axis] = 0;
        for (const t of ins) {
          for (let d = 0; d < 4; d++)
            if (d !== axis && t.shape[d] !== x.shape[d]) fail(`layer ${name}: input shapes differ`);
          shape[axis] += t.shape[axis];
        }
        val.set(name, { name: b.node('Concat', ins.map((t) => t.name), name, { axis }), shape });
        break;
      }
      case 'UpSampling2D': {
        const [uh, uw] = pair(c, 'size', 2, name);
        if ((c.interpolation ?? 'nearest') !== 'nearest')
          fail(`layer ${name}: interpolation ${c.interpolation} is not supported`);
        // Keras repeats each pixel: out[y] = in[floor(y / s)], which is Resize's asymmetric
        // coordinates with floor rounding
        const scales = b.init(`${name}/scales`, [4], new Float32Array([1, 1, uh, uw]));
        const y = b.node('Resize', [x.name, '', scales], name, {
          mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor',
        });
        val.set(name, { name: y, shape: [1, x.shape[1], x.shape[2] * uh, x.shape[3] * uw] });
        break;
      }
      default:
        fail(`layer ${name}: class ${l.class_name} is not supported`);
    }
  }
  const unused = [...weights].filter(([, v]) => !v.used).map(([k]) => k);
  if (unused.length) fail(`weights not used by any layer: ${unused.join(', ')}`);

  const outLayer = cfg.output_layers[0][0];
  let out = val.get(outLayer);
  if (!out) fail(`unknown output layer ${outLayer}`);
  if (out.name !== outLayer || out === graphInput)
    out = { name: b.node('Identity', [out.name], outLayer), shape: out.shape };
  const info = (v) => ({
    name: v.name,
    type: { tensor_type: { elem_type: FLOAT,
                           shape: { dim: v.shape.map((d) => ({ dim_value: d })) } } },
  });
  return {
    graph: { name: mc.config.name ?? 'tfjs', node: b.nodes, initializer: b.inits,
             input: [info(graphInput)], output: [info(out)] },
    input: graphInput, output: out,
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const require = createRequire(path.join(path.resolve(opts['protobufjs-dir']), 'package.json'));
  const protobuf = require('protobufjs');
  const protoPath = opts.proto ?? '/usr/include/onnx/onnx.proto';
  if (!fs.existsSync(protoPath))
    fail(`${protoPath} is missing: install libonnx-dev (build-aux/setup.sh) or pass --proto`);
  const root = new protobuf.Root().loadSync(protoPath, { keepCase: true });
  const ModelProto = root.lookupType('onnx.ModelProto');

  const json = JSON.parse(fs.readFileSync(opts.model, 'utf8'));
  const weights = readWeights(opts.model, json);
  const { graph, input, output } = convert(json, weights, opts.h, opts.w);
  const model = {
    ir_version: 7,
    opset_import: [{ domain: '', version: 13 }],
    producer_name: 'catena build-aux/tfjs-to-onnx.mjs',
    doc_string: `converted from ${path.basename(path.dirname(path.resolve(opts.model)))}/` +
                `${path.basename(opts.model)} for a ${opts.h}×${opts.w} input`,
    graph,
  };
  const err = ModelProto.verify(model);
  if (err) fail(`internal error: ${err}`);
  const bytes = ModelProto.encode(ModelProto.fromObject(model)).finish();
  fs.writeFileSync(opts.output, bytes);
  if (!opts.quiet)
    console.log(`tfjs-to-onnx: ${opts.output}: ${graph.node.length} nodes, ` +
                `${graph.initializer.length} initializers, ` +
                `${input.name} ${input.shape.join('×')} → ` +
                `${output.name} ${output.shape.join('×')}, ${(bytes.length / 1e6).toFixed(1)} MB`);
}

try {
  main();
} catch (e) {
  if (!(e instanceof ConvertError)) throw e;
  console.error(`tfjs-to-onnx: error: ${e.message}`);
  process.exit(1);
}
