package diff

// Scenarios returns every scenario in a fixed order (the order decides each
// scenario's root path, so it must be the same for both servers of a run).
func Scenarios() []Scenario {
	var all []Scenario
	for _, group := range [][]Scenario{createScenarios, rwScenarios, watchScenarios, aclScenarios,
		multiScenarios, sessionScenarios, protocolScenarios,
		quotaScenarios, specialScenarios, acl2Scenarios, watch2Scenarios, seqScenarios, read2Scenarios,
		multi2Scenarios, dataScenarios, session2Scenarios, fourLetterScenarios, randomScenarios()} {
		all = append(all, group...)
	}
	return all
}
