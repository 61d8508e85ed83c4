// A portal backend in a few lines: every `<name>.toml` in a folder is a pool; the endpoint
// returns its plan (resources, addresses, cost) as JSON, or the validation errors.
//
//   GET /pools                 -> ["team", ...]
//   GET /pools/<name>/plan     -> 200 Plan | 404 | 422 { code, errors: [{ path, rule, message }] }

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Pool, isDsvmpoolError, type Plan } from 'dsvmpool'

export interface PortalOptions {
  /** Folder holding one `<name>.toml` spec per pool. */
  specDir: string
}

const POOL_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

export async function listPools(specDir: string): Promise<string[]> {
  const files = await readdir(specDir)
  return files.filter((f) => f.endsWith('.toml')).map((f) => f.slice(0, -'.toml'.length)).sort()
}

export function planOf(specDir: string, name: string): Plan {
  return Pool.load(join(specDir, `${name}.toml`)).plan()
}

async function handle(opts: PortalOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://portal.invalid')
  if (req.method !== 'GET') return send(res, 405, { code: 'METHOD_NOT_ALLOWED' })
  if (url.pathname === '/pools') return send(res, 200, await listPools(opts.specDir))
  const m = url.pathname.match(/^\/pools\/([^/]+)\/plan$/)
  const name = m?.[1]
  if (name === undefined) return send(res, 404, { code: 'NOT_FOUND', message: 'no such route' })
  if (!POOL_NAME.test(name) || !(await listPools(opts.specDir)).includes(name)) {
    return send(res, 404, { code: 'NOT_FOUND', message: `no pool named ${name}` })
  }
  try {
    return send(res, 200, planOf(opts.specDir, name))
  } catch (e) {
    if (isDsvmpoolError(e) && e.code === 'VALIDATION') {
      return send(res, 422, { code: e.code, message: e.message, errors: e.errors ?? [] })
    }
    if (isDsvmpoolError(e)) return send(res, 500, { code: e.code, message: e.message })
    throw e
  }
}

/** An HTTP server answering the routes above; call `.listen()` on it. */
export function createPortal(opts: PortalOptions): Server {
  return createServer((req, res) => {
    handle(opts, req, res).catch((e: unknown) => {
      send(res, 500, { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) })
    })
  })
}
