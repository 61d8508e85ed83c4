// Start the portal: `PORT=8080 SPEC_DIR=./pools npm start`, then
// `curl localhost:8080/pools/team/plan`.
import { fileURLToPath } from 'node:url'
import { createPortal } from './portal.js'

const specDir = process.env['SPEC_DIR'] ?? fileURLToPath(new URL('../../pools', import.meta.url))
const port = Number(process.env['PORT'] ?? 8080)
createPortal({ specDir }).listen(port, () => {
  console.log(`dsvmpool portal on http://localhost:${port}/pools (specs from ${specDir})`)
})
