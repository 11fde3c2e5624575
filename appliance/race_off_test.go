//go:build !race

package appliance

const raceDetector = false
