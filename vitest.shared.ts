import { fileURLToPath } from 'node:url'
import { defineProject, type TestProjectInlineConfiguration } from 'vitest/config'

type ProjectTestOptions = NonNullable<TestProjectInlineConfiguration['test']>

/**
 * One vitest project per package: tests run on `src` through the `dev-source` export condition (no
 * build needed), and a process warning fails the run instead of scrolling past in the log.
 */
export function packageProject(name: string, test: Omit<ProjectTestOptions, 'name'> = {}) {
  return defineProject({
    resolve: { conditions: ['dev-source'] },
    ssr: { resolve: { conditions: ['dev-source'] } },
    test: {
      name,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      setupFiles: [fileURLToPath(new URL('./scripts/fail-on-warning.ts', import.meta.url))],
      ...test,
    },
  })
}
