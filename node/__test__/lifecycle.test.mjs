// The lifecycle from JavaScript against the ARM test double (a local HTTPS server this test
// starts): deploy → status → scale → stop → start → planLive → unchanged redeploy → destroy,
// Promises that leave the event loop free, progress events, errors with codes, no secret out.
//
// The double's binary comes from `cargo build -p dsvmpool-arm-double --bin arm-double`
// (scripts/ci/85-node.sh builds it); ARM_DOUBLE_BIN overrides where it is looked for.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Pool, isDsvmpoolError } from '../index.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const repo = join(here, '..', '..')
const PASSWORD = 'Node-Pa55-w0rd-never-shown'

function doubleBinary() {
  const candidates = [
    process.env.ARM_DOUBLE_BIN,
    join(repo, 'target', 'x86_64-unknown-linux-gnu', 'debug', 'arm-double'),
    join(repo, 'target', 'debug', 'arm-double'),
  ].filter(Boolean)
  const found = candidates.find((p) => existsSync(p))
  assert.ok(found, `arm-double not built (cargo build -p dsvmpool-arm-double --bin arm-double); looked in ${candidates.join(', ')}`)
  return found
}

let dbl
let work
let opts
let pool

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'dsvmpool-node-lifecycle-'))
  dbl = spawn(doubleBinary(), ['--time-scale', '0.001', '--exit-on-stdin-eof', '--ca-out', join(work, 'ca.pem')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const line = await new Promise((resolve, reject) => {
    dbl.once('error', reject)
    dbl.once('exit', (code) => reject(new Error(`arm-double exited (${code})`)))
    createInterface({ input: dbl.stdout }).once('line', resolve)
  })
  const d = JSON.parse(line)
  opts = {
    auth: 'env',
    managementUrl: d.management_url,
    metricsUrl: d.metrics_url,
    caFile: join(work, 'ca.pem'),
    pollIntervalMs: 20,
    env: {
      AZURE_TENANT_ID: d.tenant_id,
      AZURE_CLIENT_ID: d.client_id,
      AZURE_CLIENT_SECRET: d.client_secret,
      AZURE_SUBSCRIPTION_ID: d.subscription_id,
      AZURE_AUTHORITY_HOST: d.token_authority_url,
      NODE_ADMIN_PASSWORD: PASSWORD,
    },
  }
  const spec = readFileSync(join(repo, 'tests', 'fixtures', 'specs', 'valid', 'smb-account-key-created.toml'), 'utf8')
  pool = Pool.fromToml(spec.replace(/\[access\]/, '[access]\npassword = { env = "NODE_ADMIN_PASSWORD" }'))
})

after(() => {
  dbl?.stdin.end()
  dbl?.kill()
  rmSync(work, { recursive: true, force: true })
})

async function rejection(promise) {
  try {
    await promise
  } catch (e) {
    return e
  }
  assert.fail('expected a rejection')
}

test('deploy → status → scale → stop → start → planLive → redeploy → destroy', async () => {
  const events = []
  let ticks = 0
  const timer = setInterval(() => ticks++, 2)
  const deploying = pool.deploy({ ...opts, onProgress: (e) => events.push(e) })
  assert.ok(deploying instanceof Promise)
  const out = await deploying
  clearInterval(timer)
  assert.equal(out.action, 'created')
  assert.equal(out.state, 'Succeeded')
  assert.match(out.outputs.fqdn, /cloudapp/)
  assert.ok(ticks > 3, `the event loop ran ${ticks} timer ticks during the deploy`)
  assert.ok(events.some((e) => e.event === 'step' && e.step === 'render'))
  assert.ok(events.some((e) => e.event === 'resource' && e.resourceType === 'Microsoft.Compute/virtualMachineScaleSets'))
  assert.ok(!JSON.stringify({ out, events }).includes(PASSWORD), 'the password never leaves')

  const st = await pool.status(opts)
  assert.equal(st.deployed, true)
  assert.equal(st.scaleSet.capacity, out.instanceCount)
  assert.equal(st.instances.length, out.instanceCount)

  const scaled = await pool.scale(3, opts)
  assert.deepEqual([scaled.to, scaled.changed], [3, true])
  assert.equal((await pool.status(opts)).scaleSet.capacity, 3)

  const stopped = await pool.stop(opts)
  assert.equal(stopped.deallocated.length, 3)
  assert.equal((await pool.status(opts)).stopped, true)
  const started = await pool.start(opts)
  assert.equal(started.started.length, 3)

  const live = await pool.planLive(opts)
  assert.equal(live.pool, pool.spec().name)
  assert.equal(typeof live.live.upToDate, 'boolean')

  const again = await pool.deploy(opts)
  assert.equal(again.action, 'unchanged')

  const preview = await pool.destroyPreview(opts)
  assert.equal(preview.exists, true)
  const gone = await pool.destroy(opts)
  assert.ok(gone.deleted.length >= 1)
  assert.equal((await pool.status(opts)).deployed, false)
})

test('several calls run at once', async () => {
  const results = await Promise.all([pool.status(opts), pool.destroyPreview(opts), pool.status(opts)])
  assert.equal(results.length, 3)
})

test('failures reject with a DsvmpoolError carrying the code', async () => {
  let e = await rejection(pool.status({ ...opts, env: { ...opts.env, AZURE_CLIENT_SECRET: 'wrong' } }))
  assert.ok(isDsvmpoolError(e))
  assert.equal(e.code, 'AUTH')
  assert.ok(!e.message.includes('wrong'))
  // The pool was destroyed by the first test.
  e = await rejection(pool.scale(2, opts))
  assert.ok(isDsvmpoolError(e), String(e))
  assert.equal(e.code, 'NOT_FOUND')
  assert.equal(e.status, 404)
  assert.equal(e.details.code, 'PoolNotDeployed')
  // Bad options throw before anything is sent.
  assert.throws(() => pool.status({ ...opts, auth: 'magic' }), (err) => err.code === 'VALIDATION' && err.errors[0].path === 'auth')
  assert.throws(() => pool.status({ ...opts, pollIntervalMs: -1 }), (err) => err.code === 'VALIDATION')
  const { AZURE_SUBSCRIPTION_ID, ...noSubscription } = opts.env
  assert.throws(() => pool.status({ ...opts, env: noSubscription }), (err) => err.code === 'VALIDATION' && err.errors[0].path === 'subscription')
  const invalid = Pool.fromToml('name = "Bad!"\nlocation = "westeurope"\nresource_group = "rg"\n')
  assert.throws(() => invalid.deploy(opts), (err) => err.code === 'VALIDATION')
})

function declared(dts, name) {
  const m = dts.match(new RegExp(`export interface ${name} (?:extends \\w+ )?\\{([\\s\\S]*?)\\n\\}`))
  assert.ok(m, `interface ${name}`)
  return [...m[1].matchAll(/^  (\w+)\??:/gm)].map((x) => x[1])
}

test('index.d.ts declares the keys of real outcomes', async () => {
  const dts = readFileSync(join(here, '..', 'index.d.ts'), 'utf8')
  const check = (name, value, base = []) => {
    const keys = [...declared(dts, name), ...base]
    for (const k of Object.keys(value)) assert.ok(keys.includes(k), `${name}.${k} not declared`)
  }
  const out = await pool.deploy(opts)
  check('DeployOutcome', out)
  check('PoolOutputs', out.outputs)
  for (const r of out.resources) check('ResourceProgress', r)
  const st = await pool.status(opts)
  check('PoolStatus', st)
  for (const i of st.instances) check('InstanceStatus', i)
  check('ScaleOutcome', await pool.scale(1, opts))
  check('StopOutcome', await pool.stop(opts))
  check('StartOutcome', await pool.start(opts))
  const live = await pool.planLive(opts)
  check('LivePlan', live, declared(dts, 'Plan'))
  check('LiveState', live.live)
  check('DestroyPlan', await pool.destroyPreview(opts))
  check('DestroyOutcome', await pool.destroy(opts), declared(dts, 'DestroyPlan'))
})

test('publishSessions: the session metrics reach the scale set; a pool without autoscale.sessions is refused', async () => {
  const spec = readFileSync(join(repo, 'tests', 'fixtures', 'specs', 'valid', 'smb-account-key-created.toml'), 'utf8')
    .replace(/name = "team"/, 'name = "nodesess"')
    .replace(/resource_group = "rg-team"/, 'resource_group = "rg-nodesess"')
  const sess = Pool.fromToml(spec + '\n[autoscale.sessions]\ntarget_per_vm = 8\n')
  await sess.deploy(opts)
  const now = Math.floor(Date.now() / 1000)
  const out = await sess.publishSessions(5, 2, now, opts)
  assert.equal(out.active, 5)
  assert.equal(out.waiting, 2)
  assert.deepEqual(out.metrics.map((m) => [m.metric, m.value]), [['Sessions', 7], ['WaitingSessions', 2]])
  assert.match(out.resourceId, /virtualMachineScaleSets/)
  assert.match(out.time, /:00Z$/)
  assert.ok(out.metrics.every((m) => m.requestId))
  const e = await rejection(pool.publishSessions(1, undefined, undefined, opts))
  assert.ok(isDsvmpoolError(e))
  assert.equal(e.code, 'VALIDATION')
  assert.match(e.message, /autoscale\.sessions/)
  await sess.destroy(opts)
})
