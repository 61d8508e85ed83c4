// Rendering from JavaScript: artifacts as objects, files on disk, errors.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, chmodSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Pool, isDsvmpoolError } from '../index.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const examples = join(here, '..', '..', 'examples')
const validDir = join(here, '..', '..', 'tests', 'fixtures', 'specs', 'valid')

function thrown(fn) {
  try {
    fn()
  } catch (e) {
    return e
  }
  assert.fail('expected a throw')
}

test('render gives the template, parameters and provisioning files', () => {
  const art = Pool.load(join(examples, 'team.toml')).render()
  assert.deepEqual(Object.keys(art).sort(), ['files', 'names', 'parameters', 'resourceGroup', 'secureParameters', 'template', 'userData'])
  // Embedded documents keep Azure's keys.
  assert.match(art.template.$schema, /deploymentTemplate\.json/)
  assert.ok(art.template.contentVersion)
  assert.ok(art.template.resources.some((r) => r.type === 'Microsoft.Compute/virtualMachineScaleSets'))
  assert.ok('parameters' in art.parameters)
  assert.match(art.userData, /^#cloud-config/)
  assert.ok(art.files.some((f) => f.content === art.userData))
  assert.equal(art.names.scaleSet, 'team-vmss')
  assert.deepEqual(JSON.parse(JSON.stringify(art)), art)
  assert.equal(art.template.metadata?._generator?.name, 'dsvmpool')
})

test('render options', () => {
  const pool = Pool.load(join(examples, 'team.toml'))
  const plain = pool.render({ generatorMetadata: false })
  assert.equal(plain.template.metadata?._generator, undefined)
  // The tag goes on the scale set's extensions (a pool whose instances get the account key).
  const withExtension = Pool.load(join(validDir, 'smb-account-key-created.toml'))
  const tagged = withExtension.render({ forceUpdateTag: 'run-2' })
  assert.ok(JSON.stringify(tagged.template).includes('"forceUpdateTag":"run-2"'))
  assert.ok(!JSON.stringify(withExtension.render().template).includes('"forceUpdateTag"'))
  assert.deepEqual(pool.render(), pool.render({}))
})

test('every valid fixture and example renders; Windows has no user data', () => {
  const files = readdirSync(validDir).map((f) => join(validDir, f))
  for (const f of readdirSync(examples).filter((f) => f.endsWith('.toml'))) files.push(join(examples, f))
  for (const file of files) {
    const pool = Pool.load(file)
    let art
    try {
      art = pool.render()
    } catch (e) {
      // A valid spec Azure would still reject is a RENDER error, never anything else.
      assert.ok(isDsvmpoolError(e) && e.code === 'RENDER', `${file}: ${e}`)
      continue
    }
    assert.ok(Array.isArray(art.template.resources), file)
    if (pool.spec().vm?.os === 'windows') assert.equal(art.userData, null, file)
  }
})

test('renderToDir writes every file, all or nothing', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dsvmpool-render-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const pool = Pool.load(join(examples, 'team.toml'))
  const written = pool.renderToDir(join(dir, 'out'))
  const art = pool.render()
  assert.equal(written.length, 2 + art.files.length)
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'out', 'azuredeploy.json'), 'utf8')), art.template)
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'out', 'azuredeploy.parameters.json'), 'utf8')), art.parameters)
  // A file where the directory should be: IO, with the path.
  writeFileSync(join(dir, 'blocked'), 'x')
  const e = thrown(() => pool.renderToDir(join(dir, 'blocked')))
  assert.equal(e.code, 'IO')
  assert.ok(e.details.path.startsWith(join(dir, 'blocked')))
  if (process.getuid?.() !== 0) {
    chmodSync(join(dir, 'out'), 0o500)
    assert.equal(thrown(() => pool.renderToDir(join(dir, 'out'))).code, 'IO')
  }
})

test('an invalid spec cannot be rendered', () => {
  const bad = Pool.fromToml(readFileSync(join(examples, 'team.toml'), 'utf8').replace('name = "team"', 'name = "Team!"'))
  assert.equal(thrown(() => bad.render()).code, 'VALIDATION')
  assert.equal(thrown(() => bad.renderToDir(tmpdir())).code, 'VALIDATION')
  assert.throws(() => Pool.load(join(examples, 'team.toml')).render({ generatorMetadata: 'yes' }))
})

function declared(dts, name) {
  const m = dts.match(new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`))
  assert.ok(m, `interface ${name}`)
  return [...m[1].matchAll(/^  (\w+)\??:/gm)].map((x) => x[1]).sort()
}

test('index.d.ts declares exactly the keys of real artifacts', () => {
  const dts = readFileSync(join(here, '..', 'index.d.ts'), 'utf8')
  const art = Pool.load(join(validDir, 'smb-account-key-created.toml')).render()
  assert.deepEqual(declared(dts, 'Artifacts'), Object.keys(art).sort())
  assert.deepEqual(declared(dts, 'ResourceNames'), Object.keys(art.names).sort())
  assert.deepEqual(declared(dts, 'ArtifactFile'), Object.keys(art.files[0]).sort())
  const withSecret = readdirSync(validDir)
    .map((f) => Pool.load(join(validDir, f)))
    .map((p) => { try { return p.render() } catch { return null } })
    .find((a) => a && a.secureParameters.length > 0)
  assert.ok(withSecret, 'a valid fixture with a secure parameter')
  assert.deepEqual(declared(dts, 'SecureParameter'), Object.keys(withSecret.secureParameters[0]).sort())
})
