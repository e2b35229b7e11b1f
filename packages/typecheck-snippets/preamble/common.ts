// Names a README, docs or TSDoc snippet may use without declaring them. A snippet gets only the
// biome-ignore-all lint/correctness/noUnusedImports: entries are copied into the snippets that use them
// biome-ignore-all lint/correctness/noUnusedVariables: entries are copied into the snippets that use them
// entries it uses and does not declare itself. Keep every type the real one: a snippet checked
// against `any` proves nothing.
import { fromIni, fromTemporaryCredentials } from '@aws-sdk/credential-providers'
import { Signer } from '@aws-sdk/rds-signer'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'

declare const host: string
declare const port: number
declare const user: string
declare const password: string
declare const writerHost: string
declare const readerHost: string
declare const err: unknown
