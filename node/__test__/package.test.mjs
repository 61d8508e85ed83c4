// `npm pack` gives a tarball that installs into an empty folder and works from both
// `require('dsvmpool')` and `import 'dsvmpool'`.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const starter = join(pkgDir, '..', 'cli', 'src', 'starters', 'smb.toml')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

test('npm pack installs into an empty folder and imports both ways', (t) => {
  const work = mkdtempSync(join(tmpdir(), 'dsvmpool-pack-'))
  t.after(() => rmSync(work, { recursive: true, force: true }))
  const quiet = ['--no-audit', '--no-fund', '--loglevel=error']
  const packed = JSON.parse(
    execFileSync(npm, ['pack', '--json', '--pack-destination', work, ...quiet], { cwd: pkgDir, encoding: 'utf8' }),
  )[0]
  const files = packed.files.map((f) => f.path).sort()
  assert.deepEqual(files, ['README.md', 'dsvmpool.linux-x64-gnu.node', 'index.d.ts', 'index.js', 'index.mjs', 'package.json'])

  const app = join(work, 'app')
  execFileSync('mkdir', ['-p', app])
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }))
  execFileSync(npm, ['install', '--offline', ...quiet, join(work, packed.filename)], { cwd: app })
  const installed = JSON.parse(readFileSync(join(app, 'node_modules', 'dsvmpool', 'package.json'), 'utf8'))
  assert.equal(installed.name, 'dsvmpool')

  const run = (args) => execFileSync(process.execPath, args, { cwd: app, encoding: 'utf8' }).trim()
  const viaRequire = run([
    '-e',
    `const { Pool } = require('dsvmpool'); const p = Pool.load(${JSON.stringify(starter)}); ` +
      `console.log(require.resolve('dsvmpool') + ' ' + p.plan().pool)`,
  ])
  assert.equal(viaRequire, `${join(app, 'node_modules', 'dsvmpool', 'index.js')} team`)
  const viaImport = run([
    '--input-type=module',
    '-e',
    `import { Pool, version } from 'dsvmpool'; import d from 'dsvmpool'; ` +
      `console.log(d.Pool === Pool, version(), Pool.load(${JSON.stringify(starter)}).plan().pool)`,
  ])
  assert.equal(viaImport, `true ${installed.version} team`)
})
