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
const { Pool, Trace, version } = createRequire(import.meta.url)(`${dir}/index.js`)

const specPath = process.argv[2] ?? fileURLToPath(new URL('../../examples/team.toml', import.meta.url))
const text = readFileSync(specPath, 'utf8')
const pool = Pool.fromToml(text)
const spec = pool.spec()
const planJson = JSON.stringify(pool.plan())
let sink = 0

// Best of 5 rounds (the machine may be shared), each at least minMs/5 long.
function bench(name, fn, minMs = 500) {
  for (let i = 0; i < 50; i++) fn() // warm up
  let best = Infinity
  let total = 0
  for (let round = 0; round < 5; round++) {
    let n = 0
    let iters = 1
    const t0 = process.hrtime.bigint()
    let elapsed = 0n
    while (elapsed < BigInt(Math.ceil(minMs / 5)) * 1_000_000n) {
      for (let i = 0; i < iters; i++) fn()
      n += iters
      iters *= 2
      elapsed = process.hrtime.bigint() - t0
    }
    best = Math.min(best, Number(elapsed) / n)
    total += n
  }
  const ns = best
  console.log(`${name.padEnd(44)} ${ns >= 1000 ? (ns / 1000).toFixed(2) + ' µs' : ns.toFixed(1) + ' ns'}  (best of 5, ${total} calls)`)
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
bench('pool.planText() (same work, a string out)', () => { sink += pool.planText().length })
const trace = Trace.generate({ users: 20, days: 7, seed: 1 })
bench('Trace.generate(20 users, 7 days)', () => { sink += Trace.generate({ users: 20, days: 7, seed: 1 }).length }, 200)
bench('pool.simulate(trace) (report object)', () => { sink += pool.simulate(trace).sessions }, 200)
bench('pool.render() (artifacts object)', () => { sink += pool.render().files.length }, 200)
if (sink === 0) console.log('')
