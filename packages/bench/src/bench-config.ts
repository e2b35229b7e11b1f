// Settings every benchmark file shares, from the environment so a slower or faster machine can
// trade precision for time without editing code.
export const PG_URL = process.env.RDS_IAM_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const MYSQL_URL = process.env.RDS_IAM_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'
/** Length of one measurement slot; every subject gets one slot per round. */
export const SLOT_MS = Number(process.env.RDS_IAM_BENCH_MS ?? 350)
/** Rounds per comparison; figures are the median over rounds. */
export const ROUNDS = Number(process.env.RDS_IAM_BENCH_ROUNDS ?? 9)
/** Workers for pooled throughput (pools have 10 connections, so some queue, as in a busy app). */
export const POOL_WORKERS = 16
export const POOL_MAX = 10
export const BENCH_USER = 'bench_user'
