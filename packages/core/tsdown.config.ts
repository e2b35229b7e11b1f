import { libraryConfig } from '../../tsdown.base.ts'

// import.meta.url in rds-tls.ts must work in the CommonJS build too.
export default libraryConfig({ shims: true })
