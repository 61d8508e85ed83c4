// Call-overhead micro-benchmark of the native binding (not a test):
//   node bench/overhead.mjs [path/to/spec.toml]
//   DSVMPOOL_NODE_DIR=/tmp/release node bench/overhead.mjs   # a build made with `napi build -o`
// Reports ns per call for a trivial native call (`version()`), a pure-JS call for
// comparison, and the real work: parse, validate, plan, and converting results to JS objects.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'

const dir = process.env.DSVMPOOL_NODE_DIR ? resolve(process.env.DSVMPOOL_NODE_DIR) : fileURLToPath(new URL('..', import.meta.url))
const { Pool, version } = createRequire(import.meta.url)(`${dir}/index.js`)

const specPath = process.argv[2] ?? fileURLToPath(new URL('../../examples/team.toml', import.meta.url))
const text = readFileSync(specPath, 'utf8')
const pool = Pool.fromToml(text)
const spec = pool.spec()
const planJson = JSON.stringify(pool.plan())
let sink = 0

function bench(name, fn, minMs = 300) {
  for (let i = 0; i < 200; i++) fn() // warm up
  let n = 0
  let iters = 1
  const t0 = process.hrtime.bigint()
  let elapsed = 0n
  while (elapsed < BigInt(minMs) * 1_000_000n) {
    for (let i = 0; i < iters; i++) fn()
    n += iters
    iters *= 2
    elapsed = process.hrtime.bigint() - t0
  }
  const ns = Number(elapsed) / n
  console.log(`${name.padEnd(44)} ${ns >= 1000 ? (ns / 1000).toFixed(2) + ' µs' : ns.toFixed(1) + ' ns'}  (${n} calls)`)
  return ns
}

const jsVersion = () => '0.1.0'
console.log(`dsvmpool ${version()} on node ${process.version}, spec ${specPath} (${text.length} bytes)`)
bench('JS function returning a string', () => { sink += jsVersion().length })
bench('native version() (call overhead)', () => { sink += version().length })
bench('Pool.fromToml(text)', () => { sink += Pool.fromToml(text) ? 1 : 0 })
bench('Pool.fromJson(object)', () => { sink += Pool.fromJson(spec) ? 1 : 0 })
bench('pool.validate()', () => { sink += pool.validate().length })
bench('pool.plan() (plain object)', () => { sink += pool.plan().resources.length })
bench('JSON.parse(plan JSON) for comparison', () => { sink += JSON.parse(planJson).resources.length })
bench('pool.planText()', () => { sink += pool.planText().length })
if (sink === 0) console.log('')
