import { fork } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface EmulatorChild {
  port: number
  ca: string
  region: string
  credentials: Array<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>
  /** CPU time (user + system, µs) the emulator process has used so far. */
  cpuMicros(): Promise<number>
  stop(): Promise<void>
}

/** Starts `emulator-process.ts` in a child process and resolves once it listens. */
export function startEmulatorChild(engine: 'postgres' | 'mysql', upstream?: string): Promise<EmulatorChild> {
  const entry = join(dirname(fileURLToPath(import.meta.url)), 'emulator-process.ts')
  // The emulator is a fixture here, not a subject: run it from its source (`dev-source`), so a
  // rebuild of its dist elsewhere in the workspace cannot pull the files out from under the run.
  const child = fork(entry, [engine, ...(upstream ? [upstream] : [])], {
    execArgv: ['--conditions=dev-source', '--import', 'tsx'],
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill()
      reject(new Error('bench: the emulator process did not start within 30 s'))
    }, 30_000)
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`bench: the emulator process exited with ${code}`)))
    child.once('message', (info) => {
      clearTimeout(timer)
      child.removeAllListeners('exit')
      const stop = () =>
        new Promise<void>((done) => {
          child.once('exit', () => done())
          child.disconnect()
        })
      const cpuMicros = () =>
        new Promise<number>((done) => {
          child.once('message', (reply) => {
            const { cpu } = reply as { cpu: NodeJS.CpuUsage }
            done(cpu.user + cpu.system)
          })
          child.send('cpu')
        })
      resolve({ ...(info as Omit<EmulatorChild, 'stop' | 'cpuMicros'>), cpuMicros, stop })
    })
  })
}
