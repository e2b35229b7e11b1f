// A progress indicator for steps that take more than a moment: a spinner on a terminal, one plain
// line per step otherwise (CI logs, pipes), so a captured transcript stays readable.
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

/**
 * @param {{ write(chunk: string): unknown, isTTY?: boolean }} out
 * @returns {<T>(label: string, work: () => Promise<T>, indent?: string) => Promise<T>}
 */
export function createStepper(out) {
  return async function step(label, work, indent = '') {
    const started = performance.now()
    const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`
    let timer
    if (out.isTTY) {
      let frame = 0
      const draw = () => out.write(`\r${indent}${FRAMES[frame++ % FRAMES.length]} ${label}`)
      draw()
      timer = setInterval(draw, 80)
    } else {
      out.write(`${indent}… ${label}`)
    }
    const finish = (mark) => {
      clearInterval(timer)
      out.write(out.isTTY ? `\r\x1b[K${indent}${mark} ${label} (${seconds()})\n` : ` ${mark} ${seconds()}\n`)
    }
    try {
      const value = await work()
      finish('✔')
      return value
    } catch (err) {
      finish('✘')
      throw err
    }
  }
}
