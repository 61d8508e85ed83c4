// ESM entry of the `dsvmpool` package: the same native module as `require('dsvmpool')`.
import { createRequire } from 'node:module'

const native = createRequire(import.meta.url)('./index.js')

export const { Pool, SpecFormat, Trace, isDsvmpoolError, jsonSchema, version } = native
export default native
