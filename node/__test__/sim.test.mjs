// Simulation from JavaScript: traces in and out, simulate / compare, option errors.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Pool, Trace, isDsvmpoolError } from '../index.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const team = Pool.load(join(here, '..', '..', 'examples', 'team.toml'))
const trace = Trace.generate({ users: 8, days: 7, seed: 7 })

function thrown(fn) {
  try {
    fn()
  } catch (e) {
    return e
  }
  assert.fail('expected a throw')
}

test('traces: generate is deterministic, CSV and JSON round-trip', () => {
  assert.ok(trace.length > 10)
  assert.deepEqual(Trace.generate({ users: 8, days: 7, seed: 7 }).sessions(), trace.sessions())
  assert.notDeepEqual(Trace.generate({ users: 8, days: 7, seed: 8 }).sessions(), trace.sessions())
  const csv = trace.toCsv()
  assert.match(csv, /^user,start,duration,cpu\n/)
  // CSV keeps the CPU share to 3 decimals.
  const rounded = trace.sessions().map((s) => ({ ...s, cpu: Number(s.cpu.toFixed(3)) }))
  assert.deepEqual(Trace.parse(csv).sessions(), rounded)
  assert.deepEqual(Trace.fromCsv(csv).sessions(), rounded)
  const sessions = trace.sessions()
  assert.deepEqual(Object.keys(sessions[0]).sort(), ['cpu', 'duration', 'start', 'user'])
  // serde_json parses floats to within one ulp (no `float_roundtrip`): compare CPU closely.
  const same = (got) => {
    assert.equal(got.length, sessions.length)
    got.forEach((g, i) => {
      assert.deepEqual({ ...g, cpu: 0 }, { ...sessions[i], cpu: 0 })
      assert.ok(Math.abs(g.cpu - sessions[i].cpu) < 1e-12)
    })
  }
  same(Trace.fromJson(sessions).sessions())
  same(Trace.fromJson({ sessions }).sessions())
  same(Trace.fromJson(JSON.stringify(sessions)).sessions())
  const one = Trace.fromJson([{ user: 'alice', start: '2026-03-02T08:15:00Z', duration: '90m', cpu: '25%' }])
  assert.deepEqual(one.sessions(), [{ user: 'alice', start: 1772439300, duration: 5400, cpu: 0.25 }])
  assert.equal(Trace.generate().length > 0, true)
})

test('simulate gives a plain report; policy and options are honoured', () => {
  const report = team.simulate(trace)
  assert.equal(report.policy, 'spec')
  assert.equal(report.sessions, trace.length)
  assert.equal(report.served + report.refused + report.stillWaiting, report.sessions)
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report)
  assert.ok(report.timeline.length > 0 && report.daily.length > 0)
  assert.equal(typeof report.timeline[0].activeSessions, 'number')
  const fixed = team.simulate(trace, { policy: 'fixed', fixedInstances: 3 })
  assert.equal(fixed.policy, 'fixed')
  assert.equal(fixed.peakInstances, 3)
  // camelCase and snake_case option keys mean the same.
  assert.deepEqual(team.simulate(trace, { bootTime: 600 }), team.simulate(trace, { boot_time: 600 }))
})

test('compare runs every policy (or the ones asked) on the same trace', () => {
  const all = team.compare(trace)
  assert.deepEqual(all.map((r) => r.policy), ['fixed', 'cpu', 'spec', 'sessions'])
  for (const r of all) assert.equal(r.sessions, trace.length)
  const two = team.compare(trace, ['spec', 'fixed'], { patience: 60 })
  assert.deepEqual(two.map((r) => r.policy), ['spec', 'fixed'])
  assert.deepEqual(two[0], team.simulate(trace, { patience: 60 }))
})

test('bad options, policies and traces are VALIDATION errors with a path', () => {
  let e = thrown(() => team.simulate(trace, { bootTme: 5 }))
  assert.ok(isDsvmpoolError(e))
  assert.deepEqual(e.errors.map((d) => [d.path, d.rule]), [['boot_tme', 'unknown-field']])
  assert.match(e.errors[0].hint, /boot_time/)
  e = thrown(() => team.simulate(trace, { policy: 'magic' }))
  assert.deepEqual(e.errors.map((d) => [d.path, d.rule]), [['policy', 'unknown-value']])
  e = thrown(() => team.compare(trace, ['spec', 'nope']))
  assert.deepEqual(e.errors.map((d) => d.path), ['policies[1]'])
  e = thrown(() => Trace.generate({ users: 3, timeZone: 'Mars/Olympus' }))
  assert.equal(e.code, 'VALIDATION')
  assert.deepEqual(e.errors.map((d) => d.path), ['time_zone'])
  e = thrown(() => Trace.fromJson([{ user: 'a', start: 'yesterday', duration: 60, cpu: 0.5 }]))
  assert.equal(e.code, 'VALIDATION')
  assert.ok(e.errors[0].path.startsWith('sessions[0]'), e.errors[0].path)
  assert.equal(thrown(() => Trace.fromCsv('user,start\nalice,0\n')).code, 'VALIDATION')
  assert.throws(() => team.simulate(trace, 5), { code: 'InvalidArg' })
  assert.throws(() => team.simulate({}, {}), /Trace/)
  const cyclic = {}
  cyclic.self = cyclic
  assert.throws(() => team.simulate(trace, cyclic), TypeError)
})

test('an invalid pool cannot be simulated', () => {
  const bad = Pool.fromToml(readFileSync(join(here, '..', '..', 'examples', 'team.toml'), 'utf8').replace('name = "team"', 'name = "Team!"'))
  assert.equal(thrown(() => bad.simulate(trace)).code, 'VALIDATION')
})

// The hand-written interfaces of index.d.ts must have exactly the keys of real values.
function declared(dts, name) {
  const m = dts.match(new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`))
  assert.ok(m, `interface ${name}`)
  return [...m[1].matchAll(/^  (\w+)\??:/gm)].map((x) => x[1]).sort()
}

test('index.d.ts declares exactly the keys of a real report and session', () => {
  const dts = readFileSync(join(here, '..', 'index.d.ts'), 'utf8')
  const r = team.simulate(trace)
  assert.deepEqual(declared(dts, 'SimReport'), Object.keys(r).sort())
  assert.deepEqual(declared(dts, 'TimelinePoint'), Object.keys(r.timeline[0]).sort())
  assert.deepEqual(declared(dts, 'DayStats'), Object.keys(r.daily[0]).sort())
  assert.deepEqual(declared(dts, 'Session'), Object.keys(trace.sessions()[0]).sort())
  // Every declared option is accepted by the core.
  const opts = Object.fromEntries(declared(dts, 'SimOptions').map((k) => [k, null]))
  for (const k of Object.keys(opts)) {
    try {
      team.simulate(trace, { [k]: null })
    } catch (e) {
      assert.notEqual(e.errors?.[0]?.rule, 'unknown-field', `SimOptions.${k} unknown to the core`)
    }
  }
  for (const k of declared(dts, 'TeamOptions')) {
    try {
      Trace.generate({ [k]: null })
    } catch (e) {
      assert.notEqual(e.errors?.[0]?.rule, 'unknown-field', `TeamOptions.${k} unknown to the core`)
    }
  }
})
