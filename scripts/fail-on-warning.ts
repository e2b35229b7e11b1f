// A deprecation or a leaked listener is a defect the run should stop on (STYLE.md: warnings fail
// the run). Throwing from the listener surfaces it as an unhandled error, which fails vitest.
process.on('warning', (warning) => {
  throw warning
})
