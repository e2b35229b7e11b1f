import { runReliability } from '@rds-iam/testkit'
import { pgHarness } from './pg-harness.js'

runReliability(pgHarness(['postgres']))
