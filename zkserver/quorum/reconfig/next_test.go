package reconfig

import (
	"io"
	"log/slog"
	"testing"

	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/jute"
)

func threeServers(t *testing.T) *zoocfg.QuorumVerifier {
	t.Helper()
	q := &zoocfg.QuorumVerifier{}
	for i, v := range []string{"127.0.0.1:2888:3888;2181", "127.0.0.1:2889:3889;2182", "127.0.0.1:2890:3890;2183"} {
		s, err := zoocfg.ParseServer(int64(i+1), v, false)
		if err != nil {
			t.Fatal(err)
		}
		q.Servers = append(q.Servers, s)
	}
	return q
}

func opts() Options {
	return Options{StandaloneEnabled: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func TestNext(t *testing.T) {
	const zxid = 0x100000005
	tests := []struct {
		name string
		req  jute.ReconfigRequest
		opts func(*Options)
		want string   // the new config's text
		code jute.Err // or the failure
	}{
		{name: "add", req: jute.ReconfigRequest{JoiningServers: "server.4=127.0.0.1:2891:3891;2184"},
			want: "server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\n" +
				"server.2=127.0.0.1:2889:3889:participant;0.0.0.0:2182\n" +
				"server.3=127.0.0.1:2890:3890:participant;0.0.0.0:2183\n" +
				"server.4=127.0.0.1:2891:3891:participant;0.0.0.0:2184\nversion=100000005"},
		{name: "remove", req: jute.ReconfigRequest{LeavingServers: " 3 ,"},
			want: "server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\n" +
				"server.2=127.0.0.1:2889:3889:participant;0.0.0.0:2182\nversion=100000005"},
		{name: "role change", req: jute.ReconfigRequest{JoiningServers: "server.3=127.0.0.1:2890:3890:observer;2183"},
			want: "server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\n" +
				"server.2=127.0.0.1:2889:3889:participant;0.0.0.0:2182\n" +
				"server.3=127.0.0.1:2890:3890:observer;0.0.0.0:2183\nversion=100000005"},
		{name: "members", req: jute.ReconfigRequest{NewMembers: new("server.1=127.0.0.1:2888:3888;2181,server.2=127.0.0.1:2889:3889;2182")},
			want: "server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\n" +
				"server.2=127.0.0.1:2889:3889:participant;0.0.0.0:2182\nversion=100000005"},
		{name: "too few voters", req: jute.ReconfigRequest{LeavingServers: "2,3"}, code: jute.ErrBadArguments},
		{name: "one voter without standaloneEnabled", req: jute.ReconfigRequest{LeavingServers: "2,3"},
			opts: func(o *Options) { o.StandaloneEnabled = false },
			want: "server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\nversion=100000005"},
		{name: "leaving not a number", req: jute.ReconfigRequest{LeavingServers: "x"}, code: jute.ErrMarshallingError},
		{name: "joiner id not a number", req: jute.ReconfigRequest{JoiningServers: "server.x=127.0.0.1:1:2;3"}, code: jute.ErrMarshallingError},
		{name: "joiner without =", req: jute.ReconfigRequest{JoiningServers: "server.4"}, code: jute.ErrBadArguments},
		{name: "joiner without client port", req: jute.ReconfigRequest{JoiningServers: "server.4=127.0.0.1:2891:3891"}, code: jute.ErrBadArguments},
		{name: "joiner bad spec", req: jute.ReconfigRequest{JoiningServers: "server.4=127.0.0.1:2891;2184"}, code: jute.ErrBadArguments},
		{name: "members unknown key", req: jute.ReconfigRequest{NewMembers: new("server.1=127.0.0.1:2888:3888;2181,foo=bar")}, code: jute.ErrBadArguments},
		{name: "members id not a number", req: jute.ReconfigRequest{NewMembers: new("server.a=127.0.0.1:2888:3888;2181")}, code: jute.ErrMarshallingError},
		// go-zookeeper's incremental request sends newMembers "" (not null): to Apache an empty membership.
		{name: "empty members", req: jute.ReconfigRequest{LeavingServers: "3", NewMembers: new("")}, code: jute.ErrBadArguments},
		{name: "empty members without standaloneEnabled", req: jute.ReconfigRequest{LeavingServers: "3", NewMembers: new("")},
			opts: func(o *Options) { o.StandaloneEnabled = false }, code: jute.ErrMarshallingError},
		{name: "members observers only", req: jute.ReconfigRequest{NewMembers: new("server.1=127.0.0.1:2888:3888:observer;2181")}, code: jute.ErrMarshallingError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opts()
			if tt.opts != nil {
				tt.opts(&o)
			}
			got, err := Next(threeServers(t), &tt.req, zxid, o)
			if tt.code != 0 {
				if err == nil || err.Code != tt.code {
					t.Fatalf("got %v, %v; want %s", got, err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want {
				t.Errorf("config:\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestNextIncrementalNeedsMajority(t *testing.T) {
	last := threeServers(t)
	last.Groups = map[int64][]int64{1: {1, 2, 3}}
	_, err := Next(last, &jute.ReconfigRequest{LeavingServers: "3"}, 1, opts())
	if err == nil || err.Code != jute.ErrBadArguments {
		t.Fatalf("incremental on a hierarchical quorum: %v", err)
	}
}

func TestNextAddressConflict(t *testing.T) {
	last := &zoocfg.QuorumVerifier{}
	for i, v := range []string{"10.0.0.1:2888:3888;2181", "10.0.0.2:2888:3888;2181"} {
		s, _ := zoocfg.ParseServer(int64(i+1), v, false)
		last.Servers = append(last.Servers, s)
	}
	_, err := Next(last, &jute.ReconfigRequest{JoiningServers: "server.3=10.0.0.3:2888:3888;10.0.0.2:2888"}, 1, opts())
	if err == nil || err.Code != jute.ErrBadArguments {
		t.Fatalf("server.2 quorum address reused as a client address: %v", err)
	}
	// Replacing a member's own line may keep its addresses.
	if _, err := Next(last, &jute.ReconfigRequest{JoiningServers: "server.2=10.0.0.2:2888:3888;10.0.0.2:2181"}, 1, opts()); err != nil {
		t.Fatalf("server.2 re-joining: %v", err)
	}
}

func TestQuorumSynced(t *testing.T) {
	qv := threeServers(t) // voters 1, 2, 3
	if QuorumSynced(qv, 1, nil) {
		t.Error("the leader alone is no quorum of three")
	}
	if !QuorumSynced(qv, 1, []int64{3}) {
		t.Error("leader and one follower are a quorum of three")
	}
	if QuorumSynced(qv, 9, []int64{3, 7}) {
		t.Error("non-members counted")
	}
}
