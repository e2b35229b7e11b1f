import { libraryConfig } from '../../tsdown.base.ts'

// @electric-sql/pglite-socket is bundled (it is a devDependency, 12 KB, Node's `net` only): as an
// installed dependency its `pglite-server` bin would land in every user's node_modules/.bin.
// Its Apache-2.0 licence ships in THIRD-PARTY-NOTICES.md.
export default libraryConfig({ noExternal: ['@electric-sql/pglite-socket'] })
