// Test helpers shared by the CLI tests (not exported from the package).
export { verifyRdsToken } from '../../core/src/test-support/verify-sigv4.js'

export const FAKE_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIDCLITEST',
  AWS_SECRET_ACCESS_KEY: 'cliTestSecret/0123456789',
}

export function bufferIo() {
  let out = ''
  let err = ''
  return {
    io: {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
    },
    stdout: () => out,
    stderr: () => err,
  }
}
