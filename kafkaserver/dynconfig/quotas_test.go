package dynconfig

import (
	"testing"

	"github.com/zkafka/zkafka/kafkaserver/quota"
)

// Notifications name quota entities as Kafka's tools write them; client ids are sanitized in znode names.
func TestQuotaEntity(t *testing.T) {
	for _, c := range []struct {
		note string
		want quota.Entity
	}{
		{`{"version":2,"entity_path":"clients/app"}`, quota.Entity{Client: "app"}},
		{`{"version":2,"entity_path":"clients/my%20app"}`, quota.Entity{Client: "my app"}},
		{`{"version":2,"entity_path":"clients/<default>"}`, quota.Entity{Client: "<default>"}},
		{`{"version":1,"entity_type":"clients","entity_name":"app09"}`, quota.Entity{Client: "app09"}},
		{`{"version":2,"entity_path":"users/alice"}`, quota.Entity{User: "alice"}},
		{`{"version":2,"entity_path":"users/CN%3Dx/clients/app"}`, quota.Entity{User: "CN%3Dx", Client: "app"}},
		{`{"version":2,"entity_path":"users/<default>/clients/<default>"}`, quota.Entity{User: "<default>", Client: "<default>"}},
	} {
		typ, name, err := ParseChange([]byte(c.note))
		if err != nil {
			t.Fatalf("%s: %v", c.note, err)
		}
		got, err := quotaEntity(typ, name)
		if err != nil || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v", c.note, got, err, c.want)
		}
	}
	for _, bad := range [][2]string{{"users", "a/b"}, {"users", "a/clients/"}, {"users", "/clients/x"}, {"topics", "t"}, {"clients", "%zz"}} {
		if e, err := quotaEntity(bad[0], bad[1]); err == nil {
			t.Errorf("%s/%s accepted as %+v", bad[0], bad[1], e)
		}
	}
}
