package console

// Recorded reports whether system has console lines on disk (a Ring in
// Dir), captured now or before: one stat or two, no file opened or made,
// for a status asked of every system.
func (m *Manager) Recorded(system string) bool {
	return checkSystem(system) == nil && m.hasRing(system)
}
