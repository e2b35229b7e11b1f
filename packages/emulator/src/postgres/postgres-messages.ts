/**
 * The few backend messages the front writes itself and the frontend packets it reads.
 * pg-protocol serializes frontend messages and parses backend ones, which serves the upstream
 * side; the client side needs the mirror image, which pg-protocol does not provide.
 */

export const SSL_REQUEST_CODE = 80877103
export const GSSENC_REQUEST_CODE = 80877104
export const CANCEL_REQUEST_CODE = 80877102
export const PROTOCOL_MAJOR_3 = 3

/** Fields of an ErrorResponse, as the server fills them. */
export interface ErrorFields {
  severity: 'FATAL' | 'ERROR'
  code: string
  message: string
  /** DETAIL line; PostgreSQL sends none for the errors the emulator reproduces, so only for emulator-own advice. */
  detail?: string
  file?: string
  routine?: string
}

function frame(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5)
  head.write(type, 0, 'latin1')
  head.writeUInt32BE(body.length + 4, 1)
  return Buffer.concat([head, body])
}

function int32s(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4)
  for (const [i, v] of values.entries()) b.writeInt32BE(v, i * 4)
  return b
}

function cstring(value: string): Buffer {
  return Buffer.concat([Buffer.from(value, 'utf8'), Buffer.from([0])])
}

/** `AuthenticationCleartextPassword` (R, 3): what RDS asks an IAM user for. */
export function authenticationCleartextPassword(): Buffer {
  return frame('R', int32s(3))
}

/** `BackendKeyData` (K). */
export function backendKeyData(processId: number, secretKey: number): Buffer {
  return frame('K', int32s(processId, secretKey))
}

/** `ErrorResponse` (E) with the fields PostgreSQL itself sends: S, V, C, M, F, R. */
export function errorResponse(fields: ErrorFields): Buffer {
  const parts: Buffer[] = []
  const add = (code: string, value: string | undefined): void => {
    if (value !== undefined) parts.push(Buffer.from(code, 'latin1'), cstring(value))
  }
  add('S', fields.severity)
  add('V', fields.severity)
  add('C', fields.code)
  add('M', fields.message)
  add('D', fields.detail)
  add('F', fields.file)
  add('R', fields.routine)
  parts.push(Buffer.from([0]))
  return frame('E', Buffer.concat(parts))
}

/** `NegotiateProtocolVersion` (v): we speak 3.0 and none of the client's `_pq_.` options. */
export function negotiateProtocolVersion(unrecognized: readonly string[]): Buffer {
  return frame(
    'v',
    Buffer.concat([int32s((PROTOCOL_MAJOR_3 << 16) | 0, unrecognized.length), ...unrecognized.map(cstring)]),
  )
}

/** A startup packet body (after its length): protocol code, then name/value pairs. */
export interface StartupPacket {
  code: number
  /** The whole body after the length (CancelRequest reads its key from it). */
  body: Buffer
  /** Only for protocol 3.x StartupMessage: parameters in the order sent. */
  params: [string, string][]
}

/** Parses a startup-phase packet body; `undefined` if it is malformed. */
export function parseStartupPacket(body: Buffer): StartupPacket | undefined {
  if (body.length < 4) return undefined
  const code = body.readUInt32BE(0)
  if (code >>> 16 !== PROTOCOL_MAJOR_3) return { code, body, params: [] }
  const params: [string, string][] = []
  let offset = 4
  for (;;) {
    const keyEnd = body.indexOf(0, offset)
    if (keyEnd < 0) return undefined
    if (keyEnd === offset) break
    const valueEnd = body.indexOf(0, keyEnd + 1)
    if (valueEnd < 0) return undefined
    params.push([body.toString('utf8', offset, keyEnd), body.toString('utf8', keyEnd + 1, valueEnd)])
    offset = valueEnd + 1
  }
  return { code, body, params }
}

/** Encodes a 3.0 StartupMessage with the parameters exactly as given. */
export function startupMessage(params: readonly [string, string][]): Buffer {
  // pg-protocol's serialize.startup always appends client_encoding=UTF8, which would override the
  // client's own choice (psql sends its locale's encoding), so the front writes it itself.
  const body = Buffer.concat([
    int32s(PROTOCOL_MAJOR_3 << 16),
    ...params.flatMap(([k, v]) => [cstring(k), cstring(v)]),
    Buffer.from([0]),
  ])
  const head = Buffer.alloc(4)
  head.writeUInt32BE(body.length + 4, 0)
  return Buffer.concat([head, body])
}

/** Password message body: a NUL-terminated string; `undefined` if not terminated. */
export function parsePasswordMessage(body: Buffer): string | undefined {
  const end = body.indexOf(0)
  if (end < 0 || end !== body.length - 1) return undefined
  return body.toString('utf8', 0, end)
}
