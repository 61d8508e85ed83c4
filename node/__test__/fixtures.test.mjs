// The golden spec fixtures shared by every suite (Rust, Python, Node, C): each invalid case
// must throw exactly the expected error paths and rules, through every loading entry point;
// each valid case must validate and plan.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { join, dirname, extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Pool, isDsvmpoolError } from '../index.mjs'

const specs = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'tests', 'fixtures', 'specs')
const invalidDir = join(specs, 'invalid')
const validDir = join(specs, 'valid')

function fromText(file) {
  const text = readFileSync(file, 'utf8')
  switch (extname(file)) {
    case '.toml':
      return () => Pool.fromToml(text)
    case '.yaml':
    case '.yml':
      return () => Pool.fromYaml(text)
    case '.json':
      return () => Pool.fromJson(text)
    default:
      throw new Error(`unexpected fixture ${file}`)
  }
}

function errorsOf(make) {
  let pool
  try {
    pool = make()
    pool.validate()
  } catch (e) {
    assert.ok(isDsvmpoolError(e), `not a DsvmpoolError: ${e}`)
    assert.equal(e.code, 'VALIDATION')
    return {
      paths: e.errors.map((d) => d.path).sort(),
      rules: e.errors.map((d) => d.rule).sort(),
      errors: e.errors,
    }
  }
  return null
}

// Sort like Rust's `Vec<String>::sort` (byte order), not localeCompare.
const byteOrder = (a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : Buffer.from(a) > Buffer.from(b) ? 1 : 0)

test('every invalid fixture gives exactly the expected error paths and rules', () => {
  const expected = JSON.parse(readFileSync(join(invalidDir, 'expected.json'), 'utf8'))
  const files = readdirSync(invalidDir).filter((f) => f !== 'expected.json')
  assert.ok(files.length >= 150, `only ${files.length} invalid fixtures`)
  assert.deepEqual(files.slice().sort(), Object.keys(expected).sort(), 'every fixture has an expectation')
  const failures = []
  for (const [file, want] of Object.entries(expected)) {
    const path = join(invalidDir, file)
    const makers = { load: () => Pool.load(path), text: fromText(path) }
    if (extname(file) === '.json') {
      let obj
      try {
        obj = JSON.parse(readFileSync(path, 'utf8'))
      } catch {
        obj = undefined // a JSON syntax case: only the text entry points apply
      }
      if (obj !== undefined) makers.object = () => Pool.fromJson(obj)
    }
    for (const [how, make] of Object.entries(makers)) {
      const got = errorsOf(make)
      if (got === null) {
        failures.push(`${file} (${how}): validated but should fail with ${want.paths}`)
        continue
      }
      got.paths.sort(byteOrder)
      got.rules.sort(byteOrder)
      if (JSON.stringify(got.paths) !== JSON.stringify(want.paths) || JSON.stringify(got.rules) !== JSON.stringify(want.rules)) {
        failures.push(`${file} (${how}): got ${JSON.stringify(got.paths)} ${JSON.stringify(got.rules)}, want ${JSON.stringify(want.paths)} ${JSON.stringify(want.rules)}`)
      }
      for (const d of got.errors) {
        if (!d.message || !d.hint) failures.push(`${file} (${how}): ${d.path} lacks a message or hint`)
      }
    }
  }
  assert.deepEqual(failures, [])
})

test('every valid fixture validates and plans', () => {
  const files = readdirSync(validDir)
  assert.ok(files.length >= 10)
  for (const file of files) {
    const path = join(validDir, file)
    for (const pool of [Pool.load(path), fromText(path)()]) {
      const warnings = pool.validate()
      assert.ok(Array.isArray(warnings), file)
      const plan = pool.plan()
      assert.equal(plan.pool, pool.spec().name, file)
      assert.deepEqual(plan.warnings, warnings, file)
      assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan, file)
    }
  }
})
