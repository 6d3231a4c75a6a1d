package assign

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

func plain(ids ...int32) []BrokerMetadata {
	out := make([]BrokerMetadata, len(ids))
	for i, id := range ids {
		out[i] = BrokerMetadata{ID: id}
	}
	return out
}

func racked(pairs ...any) []BrokerMetadata {
	var out []BrokerMetadata
	for i := 0; i < len(pairs); i += 2 {
		r := pairs[i+1].(string)
		out = append(out, BrokerMetadata{ID: int32(pairs[i].(int)), Rack: &r})
	}
	return out
}

// Rack-unaware, brokers 0..4, 10 partitions, RF 3, fixed start 0 (startIndex = shift = 0), n = 5.
// Follower j of a partition whose leader is at index f sits at (f + 1 + (shift+j)%4) % 5.
//
//	p0..p4: shift 0, leader index p, followers f+1, f+2          -> 012 123 234 340 401
//	p5: 5%5 == 0 so shift = 1; leader index 0, followers 0+2, 0+3 -> 023; p6..p9 likewise -> 134 240 301 412
//
// This is also the expectation of Kafka's own AdminTest.testReplicaAssignment.
func TestRackUnawareGolden(t *testing.T) {
	got, err := ReplicasToBrokers(plain(0, 1, 2, 3, 4), 10, 3, 0, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32][]int32{
		0: {0, 1, 2}, 1: {1, 2, 3}, 2: {2, 3, 4}, 3: {3, 4, 0}, 4: {4, 0, 1},
		5: {0, 2, 3}, 6: {1, 3, 4}, 7: {2, 4, 0}, 8: {3, 0, 1}, 9: {4, 1, 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

// Adding partitions as AdminZkClient.createNewPartitionsAssignment does: brokers [1,2,3] (sorted ids), partition
// 0's leader 2 -> startIndex = index of first id >= 2 = 1, shift 1, startPartitionID 3, RF 2, 3 new partitions.
//
//	p3: 3%3 == 0 so shift = 2; leader index (3+1)%3 = 1 -> 2; follower (1 + 1 + 2%2) % 3 = 2 -> 3   => [2 3]
//	p4: leader index 2 -> 3; follower (2+1+0)%3 = 0 -> 1                                            => [3 1]
//	p5: leader index 0 -> 1; follower (0+1+0)%3 = 1 -> 2                                            => [1 2]
func TestRackUnawareStartPartition(t *testing.T) {
	got, err := ReplicasToBrokers(plain(1, 2, 3), 3, 2, 1, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32][]int32{3: {2, 3}, 4: {3, 1}, 5: {1, 2}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
}

// Racks 0:rack1 1:rack3 2:rack3 3:rack2 4:rack2 5:rack1. Rack-alternated list (racks sorted, ids sorted within a
// rack, round robin): rack1[0,5] rack2[3,4] rack3[1,2] -> [0,3,1,5,4,2]. n = 6, numRacks = 3, fixed start 0.
// Followers use replicaIndex(f, shift*3, k, 6) = (f + 1 + (shift*3+k)%5) % 6 and every candidate is accepted here
// because consecutive entries alternate racks:
//
//	p0: f0 [0] + idx1,2 -> 3,1      p1: f1 [3] + idx2,3 -> 1,5      p2: f2 [1] + idx3,4 -> 5,4
//	p3: f3 [5] + idx4,5 -> 4,2      p4: f4 [4] + idx5,0 -> 2,0      p5: f5 [2] + idx0,1 -> 0,3
//	p6: 6%6 == 0 so shift = 1 (secondShift 3); f0 [0] + idx 1+3=4, 1+4=5 -> 4,2
//
// Kafka's AdminRackAwareTest has the same expectation.
func TestRackAwareGolden(t *testing.T) {
	b := racked(0, "rack1", 1, "rack3", 2, "rack3", 3, "rack2", 4, "rack2", 5, "rack1")
	got, err := ReplicasToBrokers(b, 7, 3, 0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32][]int32{
		0: {0, 3, 1}, 1: {3, 1, 5}, 2: {1, 5, 4}, 3: {5, 4, 2}, 4: {4, 2, 0}, 5: {2, 0, 3}, 6: {0, 4, 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

// Uneven racks force skips. Brokers 0,1,2 in rack a, 3 in rack b: alternated list a0 b3 a1 (b empty) a2 ->
// [0,3,1,2]; n = 4, numRacks = 2, fixed start 1 (startIndex 1, shift 1 -> secondShift 2), RF 2. Candidates are at
// (f + 1 + (secondShift+k)%3) % 4, k counting across attempts:
//
//	p0: f1 [3]; k0 -> idx0 = 0 (a, new rack)                           => [3 0]
//	p1: f2 [1]; k0 -> idx1 = 3 (b)                                     => [1 3]
//	p2: f3 [2]; k0 -> idx2 = 1 (a again, rack b still empty: skip);
//	            k1 -> idx0 = 0 (a: skip); k2 -> idx1 = 3 (b)            => [2 3]
//	p3: f0 [0]; k0 -> idx3 = 2 (a: skip); k1 -> idx1 = 3 (b)            => [0 3]
//	p4: 4%4 == 0 so shift 2 (secondShift 4); f1 [3]; k0 -> idx3 = 2     => [3 2]
func TestRackAwareSkips(t *testing.T) {
	b := racked(0, "a", 1, "a", 2, "a", 3, "b")
	if got := RackAlternatedBrokers(map[int32]string{0: "a", 1: "a", 2: "a", 3: "b"}); !reflect.DeepEqual(got, []int32{0, 3, 1, 2}) {
		t.Fatalf("alternated %v", got)
	}
	got, err := ReplicasToBrokers(b, 5, 2, 1, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32][]int32{0: {3, 0}, 1: {1, 3}, 2: {2, 3}, 3: {0, 3}, 4: {3, 2}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestRandomStartIsValidAndSeeded(t *testing.T) {
	for _, brokers := range [][]BrokerMetadata{plain(1, 2, 3, 4, 5), racked(1, "x", 2, "y", 3, "x", 4, "z", 5, "y")} {
		a, err := ReplicasToBrokers(brokers, 20, 3, -1, -1, rand.New(rand.NewPCG(7, 9)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := ReplicasToBrokers(brokers, 20, 3, -1, -1, rand.New(rand.NewPCG(7, 9)))
		if !reflect.DeepEqual(a, b) {
			t.Fatal("same seed, different assignment")
		}
		if len(a) != 20 {
			t.Fatalf("%d partitions", len(a))
		}
		for p, reps := range a {
			seen := map[int32]bool{}
			for _, r := range reps {
				if seen[r] || r < 1 || r > 5 {
					t.Fatalf("partition %d: bad replicas %v", p, reps)
				}
				seen[r] = true
			}
			if len(reps) != 3 {
				t.Fatalf("partition %d: %v", p, reps)
			}
		}
	}
	// Rack-aware placement spreads each partition over all three racks.
	rack := map[int32]string{1: "x", 2: "y", 3: "x", 4: "z", 5: "y"}
	a, _ := ReplicasToBrokers(racked(1, "x", 2, "y", 3, "x", 4, "z", 5, "y"), 20, 3, -1, -1, rand.New(rand.NewPCG(1, 2)))
	for p, reps := range a {
		rs := map[string]bool{}
		for _, r := range reps {
			rs[rack[r]] = true
		}
		if len(rs) != 3 {
			t.Fatalf("partition %d not spread over racks: %v", p, reps)
		}
	}
}

func TestErrors(t *testing.T) {
	x := "r"
	cases := []struct {
		brokers []BrokerMetadata
		np      int32
		rf      int16
		kind    error
		msg     string
	}{
		{plain(1), 0, 1, ErrInvalidPartitions, "Number of partitions must be larger than 0."},
		{plain(1), 1, 0, ErrInvalidReplicationFactor, "Replication factor must be larger than 0."},
		{plain(1), 1, 3, ErrInvalidReplicationFactor, "Replication factor: 3 larger than available brokers: 1."},
		{nil, 1, 1, ErrInvalidReplicationFactor, "Replication factor: 1 larger than available brokers: 0."},
		{[]BrokerMetadata{{ID: 1, Rack: &x}, {ID: 2}}, 1, 1, ErrAdminOperation, "Not all brokers have rack information for replica rack aware assignment."},
	}
	for _, c := range cases {
		_, err := ReplicasToBrokers(c.brokers, c.np, c.rf, 0, 0, nil)
		if err == nil || !errors.Is(err, c.kind) || err.Error() != c.msg {
			t.Errorf("got %v, want %q", err, c.msg)
		}
	}
}

func TestParseReplicaAssignment(t *testing.T) {
	got, err := ParseReplicaAssignment("1:2, 2 :3,3:1,")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int32][]int32{0: {1, 2}, 1: {2, 3}, 2: {3, 1}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
	got, err = ParseReplicaAssignment("5")
	if err != nil || !reflect.DeepEqual(got, map[int32][]int32{0: {5}}) {
		t.Fatalf("got %v %v", got, err)
	}
	bad := []struct {
		in   string
		kind error
		msg  string
	}{
		{"1:1", ErrAdminCommandFailed, "Partition replica lists may not contain duplicate entries: 1"},
		{"1:2,3", ErrAdminOperation, "Partition 1 has different replication factor: 3"},
		{"1:x", ErrNumberFormat, `For input string: "x"`},
		{"1:2,,2:3", ErrNumberFormat, `For input string: ""`},
		{"1::2", ErrNumberFormat, `For input string: ""`},
	}
	for _, b := range bad {
		_, err := ParseReplicaAssignment(b.in)
		if err == nil || !errors.Is(err, b.kind) || err.Error() != b.msg {
			t.Errorf("%q: got %v, want %q", b.in, err, b.msg)
		}
	}
}

// Counts whose assignment no topic znode could hold are refused before anything is built; for added partitions the
// whole topic counts (startPartitionID onwards are new, 0 up to it exist).
func TestReplicasToBrokersRefusesUnstorableCounts(t *testing.T) {
	brokers := []BrokerMetadata{{ID: 0}, {ID: 1}}
	for _, c := range []struct {
		n, start int32
		rf       int16
		fits     bool
	}{{50000, -1, 1, true}, {1 << 30, -1, 1, false}, {math.MaxInt32, -1, 2, false}, {50000, 100000, 1, false}, {50000, 0, 1, true}} {
		a, err := ReplicasToBrokers(brokers, c.n, c.rf, 0, c.start, nil)
		if c.fits != (err == nil) || (err != nil && !errors.Is(err, zkmeta.ErrAssignmentTooLarge)) {
			t.Fatalf("%d partitions from %d at rf %d: %v", c.n, c.start, c.rf, err)
		}
		if c.fits && len(a) != int(c.n) {
			t.Fatalf("%d partitions assigned, want %d", len(a), c.n)
		}
	}
}
