// Names the sequelize README and TSDoc examples use (see common.ts for the rules).
// biome-ignore-all lint/correctness/noUnusedImports: entries are copied into the snippets that use them
// biome-ignore-all lint/correctness/noUnusedVariables: entries are copied into the snippets that use them
import type { Sequelize } from 'sequelize'

declare const sequelize: Sequelize
