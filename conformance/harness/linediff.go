package harness

// Edit is one line of an edit script: Op is ' ' (kept), '-' (only in a) or
// '+' (only in b).
type Edit struct {
	Op   byte
	Line string
}

// LineEdits turns a into b along a longest common subsequence of lines
// (O(len(a)*len(b)): suites compare outputs of at most a few hundred lines).
// Where a deletion and an insertion tie, deletesFirst puts the '-' line first.
func LineEdits(a, b []string, deletesFirst bool) []Edit {
	n, m := len(a), len(b)
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	eds := make([]Edit, 0, max(n, m))
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			eds = append(eds, Edit{' ', a[i]})
			i++
			j++
		case deletesFirst && i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			eds = append(eds, Edit{'-', a[i]})
			i++
		case !deletesFirst && j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			eds = append(eds, Edit{'+', b[j]})
			j++
		case deletesFirst:
			eds = append(eds, Edit{'+', b[j]})
			j++
		default:
			eds = append(eds, Edit{'-', a[i]})
			i++
		}
	}
	return eds
}
