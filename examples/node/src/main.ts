// Start the portal: `npm start` serves the example specs of examples/ (team, nfs, gpu-spot,
// windows); `PORT=8080 SPEC_DIR=/path/to/specs npm start` serves yours. Then
// `curl localhost:8080/pools/team/plan`.
import { fileURLToPath } from 'node:url'
import { createPortal } from './portal.js'

const specDir = process.env['SPEC_DIR'] ?? fileURLToPath(new URL('../../..', import.meta.url))
const port = Number(process.env['PORT'] ?? 8080)
createPortal({ specDir }).listen(port, () => {
  console.log(`dsvmpool portal on http://localhost:${port}/pools (specs from ${specDir})`)
})
