export { type CliIo, ExitCode, main } from './cli-main.js'
