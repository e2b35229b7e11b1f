export { type CliIo, ExitCode, main } from './cli-main.js'
export type {
  DoctorCheck,
  DoctorCheckName,
  DoctorCheckStatus,
  DoctorOptions,
  DoctorReport,
} from './doctor-command.js'
export { DOCTOR_CHECKS, formatDoctorReport, runDoctor } from './doctor-command.js'
export { buildConnectionUrl, type ConnectionUrlParts } from './url-command.js'
