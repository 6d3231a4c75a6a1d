package zkserver

import (
	"testing"

	"github.com/go-zookeeper/zk"
)

func TestMultiCreateThenSet(t *testing.T) {
	s := startTestServer(t, t.TempDir())
	defer s.Close()
	c := dial(t, s)
	res, err := c.Multi(
		&zk.CreateRequest{Path: "/m", Data: []byte{1, 2, 3, 4}, Acl: zk.WorldACL(zk.PermAll)},
		&zk.SetDataRequest{Path: "/m", Data: []byte{5}, Version: -1},
	)
	if err != nil || len(res) != 2 {
		t.Fatalf("multi: %+v %v", res, err)
	}
	data, st, err := c.Get("/m")
	if err != nil || string(data) != "\x05" || st.Version != 1 {
		t.Fatalf("get: %q %+v %v", data, st, err)
	}
}
