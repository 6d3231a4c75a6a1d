package handler

// mergeTopics folds repeated topics into their first entry and repeated partitions into their first place, keeping
// the last entry's content: Kafka reads a request's partitions into a map keyed by topic and partition (the last put
// wins) and groups its answers by topic.
func mergeTopics[T, P any](topics []T, name func(*T) string, parts func(*T) *[]P, id func(*P) int32) []T {
	at := map[string]int{}
	seen := map[string]map[int32]int{}
	out := make([]T, 0, len(topics))
	for i := range topics {
		t := &topics[i]
		n := name(t)
		ti, ok := at[n]
		if !ok {
			ti = len(out)
			at[n] = ti
			seen[n] = map[int32]int{}
			nt := *t
			*parts(&nt) = nil
			out = append(out, nt)
		}
		dst := parts(&out[ti])
		for _, p := range *parts(t) {
			if pi, dup := seen[n][id(&p)]; dup {
				(*dst)[pi] = p
				continue
			}
			seen[n][id(&p)] = len(*dst)
			*dst = append(*dst, p)
		}
	}
	return out
}
