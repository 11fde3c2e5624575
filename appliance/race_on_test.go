//go:build race

package appliance

// raceDetector: the tests run under -race, which slows every path
// several times: measurements skip (scripts/test runs them again without it).
const raceDetector = true
