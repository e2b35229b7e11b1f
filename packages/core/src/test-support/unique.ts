import { randomBytes } from 'node:crypto'

/** A user name no other test uses, so tests never share a process-wide cache entry. */
export function uniqueUser(prefix = 'u'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`
}

export const RDS_HOST = 'mydb.abcdefghijkl.eu-west-1.rds.amazonaws.com'
export const STATIC_CREDS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
}
