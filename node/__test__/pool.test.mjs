// The `dsvmpool` package from JavaScript: loading, validation errors, plan, both module systems.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

import * as esm from '../index.mjs'
import esmDefault, { Pool, isDsvmpoolError, jsonSchema, version } from '../index.mjs'

const require = createRequire(import.meta.url)
const cjs = require('../index.js')
const here = dirname(fileURLToPath(import.meta.url))
const repo = join(here, '..', '..')
const starters = join(repo, 'cli', 'src', 'starters')
const smbText = readFileSync(join(starters, 'smb.toml'), 'utf8')

function thrown(fn) {
  try {
    fn()
  } catch (e) {
    return e
  }
  assert.fail('expected a throw')
}

test('require and import expose the same native module', () => {
  assert.equal(esmDefault, cjs)
  assert.equal(Pool, cjs.Pool)
  const cjsNames = Object.keys(cjs).filter((k) => !k.startsWith('__')).sort()
  const esmNames = Object.keys(esm).filter((k) => k !== 'default').sort()
  assert.deepEqual(esmNames, cjsNames, 'index.mjs must re-export every native export')
})

test('version matches package.json', () => {
  const pkg = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8'))
  assert.equal(version(), pkg.version)
})

test('every starter loads, validates and plans', () => {
  for (const name of ['smb.toml', 'nfs.toml', 'windows.toml']) {
    const pool = Pool.load(join(starters, name))
    assert.equal(pool.source, join(starters, name))
    const warnings = pool.validate()
    assert.ok(Array.isArray(warnings))
    const plan = pool.plan()
    assert.equal(plan.pool, pool.spec().name)
    assert.ok(plan.resources.length > 3, name)
    assert.match(plan.addresses.fqdn, /\.cloudapp\.azure\.com$/)
    assert.match(pool.planText(), new RegExp(plan.pool))
  }
})

test('the plan is a plain JSON-serialisable object', () => {
  const plan = Pool.fromToml(smbText).plan()
  assert.equal(Object.getPrototypeOf(plan), Object.prototype)
  assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan)
  assert.deepEqual(plan.capacity, [0, 1, 10])
  assert.equal(plan.cost.atMax.instances, 10)
  assert.equal(plan.resourceGroup, 'rg-team-pool')
  assert.match(plan.addresses.jupyterhubUrl, /^https:\/\//)
  assert.equal(plan.resources.find((r) => r.type === 'Microsoft.Compute/virtualMachineScaleSets').name, 'team-vmss')
})

test('fromToml, fromYaml, fromJson(object), fromJson(text), parse and load agree', () => {
  const fromToml = Pool.fromToml(smbText)
  const spec = fromToml.spec()
  const expected = fromToml.plan()
  assert.deepEqual(Pool.fromJson(spec).plan(), expected)
  assert.deepEqual(Pool.fromJson(JSON.stringify(spec)).plan(), expected)
  assert.deepEqual(Pool.parse(smbText, 'toml').plan(), expected)
  // JSON is valid YAML.
  assert.deepEqual(Pool.fromYaml(JSON.stringify(spec)).plan(), expected)
  const dir = mkdtempSync(join(tmpdir(), 'dsvmpool-node-'))
  writeFileSync(join(dir, 'pool.spec'), JSON.stringify(spec))
  assert.deepEqual(Pool.load(join(dir, 'pool.spec'), 'json').plan(), expected)
  assert.equal(Pool.fromToml(smbText).source, null)
})

test('an invalid spec throws a DsvmpoolError with code VALIDATION and every error path', () => {
  const bad = smbText.replace('name = "team"', 'name = "Team!"').replace('max = 10', 'max = 0')
  const pool = Pool.fromToml(bad)
  for (const call of [() => pool.validate(), () => pool.plan(), () => pool.planText()]) {
    const e = thrown(call)
    assert.ok(e instanceof Error)
    assert.ok(isDsvmpoolError(e))
    assert.equal(e.name, 'DsvmpoolError')
    assert.equal(e.code, 'VALIDATION')
    assert.match(e.stack, /DsvmpoolError: invalid pool spec/)
    const paths = e.errors.map((d) => d.path)
    assert.ok(paths.includes('name'), paths.join(','))
    assert.ok(paths.some((p) => p.startsWith('capacity')), paths.join(','))
    for (const d of e.errors) {
      assert.equal(d.severity, 'error')
      assert.equal(typeof d.rule, 'string')
      assert.equal(typeof d.message, 'string')
    }
    assert.deepEqual(e.details.errors, e.errors)
    assert.ok(Array.isArray(e.warnings))
  }
})

test('parse errors are VALIDATION errors with the field path', () => {
  const e = thrown(() => Pool.fromJson({ name: 3, location: 'westeurope', resource_group: 'rg' }))
  assert.equal(e.code, 'VALIDATION')
  assert.deepEqual(e.errors.map((d) => [d.path, d.rule]), [['name', 'type']])
  const s = thrown(() => Pool.fromToml('name = '))
  assert.equal(s.code, 'VALIDATION')
  assert.equal(s.errors[0].rule, 'syntax')
  const j = thrown(() => Pool.fromJson('{"name": '))
  assert.equal(j.code, 'VALIDATION')
})

test('a missing file throws code IO with the path', () => {
  const e = thrown(() => Pool.load('/nonexistent/dir/pool.toml'))
  assert.ok(isDsvmpoolError(e))
  assert.equal(e.code, 'IO')
  assert.equal(e.details.path, '/nonexistent/dir/pool.toml')
  assert.equal(e.errors, undefined)
})

test('wrong argument types throw, never crash', () => {
  assert.throws(() => Pool.fromToml(3))
  assert.throws(() => Pool.fromToml())
  assert.throws(() => Pool.parse(smbText, 'ini'))
  assert.throws(() => Pool.load(null))
  assert.throws(() => Pool.fromJson(undefined))
  const e = thrown(() => Pool.fromJson(42))
  assert.equal(e.code, 'VALIDATION')
  assert.throws(() => Pool.fromJson(() => 1), { code: 'InvalidArg' })
  // Objects go through JSON.stringify: cycles and BigInts are TypeErrors, never a crash.
  const cyclic = { name: 'team' }
  cyclic.self = cyclic
  assert.throws(() => Pool.fromJson(cyclic), TypeError)
  assert.throws(() => Pool.fromJson({ name: 1n }), TypeError)
  let deep = []
  for (let i = 0; i < 1000; i++) deep = [deep]
  assert.equal(thrown(() => Pool.fromJson({ name: deep })).code, 'VALIDATION')
  for (let i = 0; i < 200000; i++) deep = [deep]
  assert.throws(() => Pool.fromJson({ name: deep }), RangeError)
  // undefined members vanish as in JSON; the spec is then missing `name`.
  const missing = thrown(() => Pool.fromJson({ name: undefined, location: 'westeurope', resource_group: 'rg' }))
  assert.deepEqual(missing.errors.map((d) => [d.path, d.rule]), [['name', 'required']])
  assert.throws(() => new Pool(), /constructor/)
  assert.throws(() => Pool.prototype.plan.call({}), TypeError)
  assert.equal(isDsvmpoolError(new Error('x')), false)
  assert.equal(isDsvmpoolError(null), false)
  assert.equal(isDsvmpoolError({ name: 'DsvmpoolError', code: 'IO' }), false)
})

test('jsonSchema is the spec JSON Schema', () => {
  const schema = JSON.parse(jsonSchema())
  assert.ok(schema.$schema.includes('json-schema.org'))
  assert.ok(schema.properties.storage)
  for (const k of ['name', 'location', 'resource_group']) assert.ok(schema.required.includes(k), k)
})

// The TypeScript interfaces of index.d.ts are written by hand (types.d.ts): check that a real
// plan has exactly the keys they declare, so the types cannot drift from the core's JSON.
function interfaceFields(dts, name) {
  const m = dts.match(new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`))
  assert.ok(m, `interface ${name} in index.d.ts`)
  const fields = { required: [], optional: [] }
  for (const line of m[1].split('\n')) {
    const f = line.match(/^  (\w+)(\??):/)
    if (f) (f[2] ? fields.optional : fields.required).push(f[1])
  }
  return fields
}

function assertShape(dts, name, value) {
  const { required, optional } = interfaceFields(dts, name)
  const keys = Object.keys(value)
  for (const k of required) assert.ok(keys.includes(k), `${name}.${k} missing from the value`)
  for (const k of keys) assert.ok(required.includes(k) || optional.includes(k), `${name}.${k} not declared in index.d.ts`)
}

test('index.d.ts declares exactly the keys of a real plan', () => {
  const dts = readFileSync(join(here, '..', 'index.d.ts'), 'utf8')
  for (const name of ['smb.toml', 'nfs.toml', 'windows.toml']) {
    const plan = Pool.load(join(starters, name)).plan()
    assertShape(dts, 'Plan', plan)
    assertShape(dts, 'Addresses', plan.addresses)
    assertShape(dts, 'Cost', plan.cost)
    if (plan.cost.atMax) assertShape(dts, 'CostAt', plan.cost.atMax)
    for (const r of plan.resources) assertShape(dts, 'PlannedResource', r)
  }
  const e = thrown(() => Pool.fromToml(smbText.replace('name = "team"', 'name = "Team!"')).validate())
  assertShape(dts, 'Diagnostic', e.errors[0])
})
