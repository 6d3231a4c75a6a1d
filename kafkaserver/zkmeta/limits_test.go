package zkmeta

import (
	"errors"
	"testing"
)

// The bound CheckAssignmentSize uses must never exceed the real JSON's length (it would refuse a topic that fits),
// and must grow with it (it would let the broker build assignments no znode holds).
func TestMinAssignmentBytesBoundsEncoding(t *testing.T) {
	for _, rf := range []int{1, 2, 3} {
		for _, n := range []int{1, 2, 9, 10, 11, 99, 100, 101, 1000, 12345} {
			a := map[int32][]int32{}
			for p := 0; p < n; p++ {
				for r := 0; r < rf; r++ {
					a[int32(p)] = append(a[int32(p)], int32(r))
				}
			}
			got := int64(len(newTopicAssignment(a, ZeroUuid).Encode()))
			least := minAssignmentBytes(int64(n), int64(rf))
			if least > got {
				t.Fatalf("n=%d rf=%d: bound %d above the JSON's %d bytes", n, rf, least, got)
			}
			if got-least > 100 { // the other keys: version, adding_replicas, removing_replicas
				t.Fatalf("n=%d rf=%d: bound %d far below the JSON's %d bytes", n, rf, least, got)
			}
		}
	}
}

func TestCheckAssignmentSize(t *testing.T) {
	for _, c := range []struct {
		n    int64
		rf   int
		fits bool
	}{{1, 1, true}, {10000, 3, true}, {-1, 1, true}, {1, -1, true}, {200000, 1, false}, {1 << 30, 1, false},
		{1<<31 - 1, 1 << 15, false}} {
		err := CheckAssignmentSize(c.n, c.rf)
		if (err == nil) != c.fits || (err != nil && !errors.Is(err, ErrAssignmentTooLarge)) {
			t.Errorf("CheckAssignmentSize(%d, %d) = %v, fits %v", c.n, c.rf, err, c.fits)
		}
	}
	big := map[int32][]int32{}
	for p := int32(0); p < 120000; p++ {
		big[p] = []int32{p % 7}
	}
	if err := checkZnodeData("t", newTopicAssignment(big, ZeroUuid).Encode()); !errors.Is(err, ErrAssignmentTooLarge) {
		t.Errorf("a 120000-partition assignment: %v", err)
	}
}
