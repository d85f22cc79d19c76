// Runs exported ONNX models in ONNX Runtime (onnxruntime-node) and compares their outputs with the engine's.
//
// Usage: node tools/onnx-check/check.mjs DIR
//        node tools/onnx-check/check.mjs --memory MODEL.onnx...   (RSS growth of creating sessions for these models and of
//                                                                   running each once, in MiB; ORT_OPTIMIZATION_LEVEL picks the level)
// DIR/cases.json: [{ "model": "task.onnx", "tolerance": 1e-4,
//                    "inputs":   { "pixel_values": { "file": "x.bin", "shape": [2, 3, 8, 8] } },
//                    "expected": { "logits": { "file": "task.logits.bin", "shape": [2, 5] }, ... } }, ...]
// Tensors are raw little-endian float32, or int64 where a spec says "dtype": "int64". Prints the max abs difference of every output and the RSS growth of creating
// each session; exits 1 when a difference exceeds its tolerance, an output is missing, or a shape differs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');

if (process.argv[2] === '--memory') {
  const before = process.memoryUsage().rss;
  const sessions = [];
  const level = process.env.ORT_OPTIMIZATION_LEVEL ?? 'all'; // disabled | basic | extended | all
  for (const file of process.argv.slice(3)) sessions.push(await ort.InferenceSession.create(file, { graphOptimizationLevel: level }));
  const after = process.memoryUsage().rss;
  // Then one run of each session on a batch of 4 zeros (dynamic axes set to 4; int64 inputs set to 1), which adds the
  // runtime arenas (and, for EMR's single file, the weights rebuilt in the graph).
  for (const session of sessions) {
    const feeds = {};
    for (const m of session.inputMetadata) {
      const shape = m.shape.map((d) => (typeof d === 'number' ? d : 4));
      const count = shape.reduce((a, b) => a * b, 1);
      feeds[m.name] = m.type === 'int64'
        ? new ort.Tensor('int64', new BigInt64Array(count).fill(1n), shape)
        : new ort.Tensor('float32', new Float32Array(count), shape);
    }
    await session.run(feeds);
  }
  const ran = process.memoryUsage().rss;
  console.log(`session memory (optimization ${level}): ${sessions.length} session(s), RSS +${((after - before) / 1048576).toFixed(1)} MiB after creation, ` +
    `+${((ran - before) / 1048576).toFixed(1)} MiB after one run each`);
  process.exit(0);
}

const dir = process.argv[2];
const cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8'));

function load(spec) {
  const buf = readFileSync(join(dir, spec.file));
  const bytes = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const data = spec.dtype === 'int64' ? new BigInt64Array(bytes) : new Float32Array(bytes);
  const count = spec.shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`${spec.file}: ${data.length} floats for shape [${spec.shape}]`);
  return data;
}

let passed = 0;
let failed = 0;
for (const c of cases) {
  const tolerance = c.tolerance ?? 1e-4;
  const before = process.memoryUsage().rss;
  const session = await ort.InferenceSession.create(join(dir, c.model), { graphOptimizationLevel: 'all' });
  const sessionBytes = process.memoryUsage().rss - before;
  const feeds = {};
  for (const [name, spec] of Object.entries(c.inputs)) feeds[name] = new ort.Tensor(spec.dtype ?? 'float32', load(spec), spec.shape);
  const results = await session.run(feeds);
  let ok = true;
  const parts = [];
  for (const [name, spec] of Object.entries(c.expected)) {
    const got = results[name];
    if (!got) { ok = false; parts.push(`${name}: missing`); continue; }
    if (got.dims.join(',') !== spec.shape.join(',')) { ok = false; parts.push(`${name}: shape [${got.dims}] != [${spec.shape}]`); continue; }
    const want = load(spec);
    let maxDiff = 0;
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(got.data[i] - want[i]);
      if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
    }
    if (!(maxDiff <= tolerance)) ok = false;
    parts.push(`${name} max|diff| ${maxDiff.toExponential(2)}`);
  }
  await session.release();
  console.log(`${ok ? 'ort ok' : 'ort FAILED'}: ${c.model}: ${parts.join(', ')}; session RSS +${(sessionBytes / 1048576).toFixed(1)} MiB`);
  if (ok) passed++; else failed++;
}
console.log(`onnxruntime-node ${ort.env.versions?.common ?? ''}: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
