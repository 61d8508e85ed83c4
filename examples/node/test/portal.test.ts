// Real HTTP requests against the portal on an ephemeral local port.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import type { Diagnostic, Plan } from 'dsvmpool'
import { createPortal } from '../src/portal.js'

// examples/, from examples/node/dist/test/
const examples = fileURLToPath(new URL('../../..', import.meta.url))
let server: Server
let base = ''

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsvmpool-portal-'))
  copyFileSync(join(examples, 'team.toml'), join(dir, 'team.toml'))
  const broken = readFileSync(join(examples, 'team.toml'), 'utf8')
    .replace('name = "team"', 'name = "Broken_Pool"')
    .replace('uid = 2002', 'uid = 2001')
  writeFileSync(join(dir, 'broken.toml'), broken)
  server = createPortal({ specDir: dir })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

after(() => new Promise<void>((resolve) => server.close(() => resolve())))

test('lists the pools', async () => {
  const res = await fetch(`${base}/pools`)
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), ['broken', 'team'])
})

test("returns a pool's plan as JSON", async () => {
  const res = await fetch(`${base}/pools/team/plan`)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
  const plan = (await res.json()) as Plan
  assert.equal(plan.pool, 'team')
  assert.deepEqual(plan.capacity, [0, 2, 12])
  assert.ok(plan.resources.some((r) => r.type === 'Microsoft.Compute/virtualMachineScaleSets'))
  assert.equal(plan.cost.atMax?.instances, 12)
})

test('an invalid pool gives 422 with every error path', async () => {
  const res = await fetch(`${base}/pools/broken/plan`)
  assert.equal(res.status, 422)
  const body = (await res.json()) as { code: string; errors: Diagnostic[] }
  assert.equal(body.code, 'VALIDATION')
  const paths = body.errors.map((d) => d.path)
  assert.ok(paths.includes('name'), paths.join(','))
  assert.ok(paths.some((p) => p.startsWith('users[1]')), paths.join(','))
})

test('unknown pools and routes give 404, other methods 405', async () => {
  assert.equal((await fetch(`${base}/pools/nope/plan`)).status, 404)
  assert.equal((await fetch(`${base}/pools/..%2Fetc/plan`)).status, 404)
  assert.equal((await fetch(`${base}/elsewhere`)).status, 404)
  assert.equal((await fetch(`${base}/pools`, { method: 'POST' })).status, 405)
})
