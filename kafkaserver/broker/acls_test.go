package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

const aclJaas = `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" ` +
	`password="admin-secret" user_admin="admin-secret" user_alice="alice-secret" user_bob="bob-secret";`

// startACLBroker starts a broker with AclAuthorizer, PLAIN users admin (a super user), alice and bob on a SASL
// listener; the PLAINTEXT listener's User:ANONYMOUS is a super user too, as inter-broker traffic needs.
func startACLBroker(c *cluster) string {
	c.t.Helper()
	return startSASL(c, "listener.name.sasl_plaintext.plain.sasl.jaas.config="+aclJaas,
		"authorizer.class.name=kafka.security.authorizer.AclAuthorizer", "super.users=User:admin;User:ANONYMOUS")
}

func userClient(t *testing.T, addr, user string, opts ...kgo.Opt) *kgo.Client {
	return saslClient(t, addr, plain.Auth{User: user, Pass: user + "-secret"}.AsMechanism(), opts...)
}

func produceErr(t *testing.T, cl *kgo.Client, topic string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("v")}).FirstErr()
}

func TestACLAuthorizer(t *testing.T) {
	c := newCluster(t)
	addr := startACLBroker(c)
	ctx := ctxT(t)
	admin := kadm.NewClient(userClient(t, addr, "admin"))
	if _, err := admin.CreateTopic(ctx, 1, 1, nil, "secure"); err != nil {
		t.Fatal(err)
	}
	alice, bob := userClient(t, addr, "alice"), userClient(t, addr, "bob")

	// No ACLs: alice may do nothing (allow.everyone.if.no.acl.found is false); admin, a super user, everything.
	if err := produceErr(t, alice, "secure"); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("alice's produce without ACLs: %v", err)
	}
	if r, _ := kadm.NewClient(alice).CreateTopic(ctx, 1, 1, nil, "alices"); !errors.Is(r.Err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("alice's CreateTopics: %v", r.Err)
	}

	// Admin grants alice WRITE and READ on the topic and READ on a group, through CreateAcls.
	b := kadm.NewACLs().Allow("User:alice").Topics("secure").Operations(kadm.OpWrite, kadm.OpRead).
		ResourcePatternType(kadm.ACLPatternLiteral)
	g := kadm.NewACLs().Allow("User:alice").Groups("g").Operations(kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral)
	for _, acls := range []*kadm.ACLBuilder{b, g} {
		res, err := admin.CreateACLs(ctx, acls)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				t.Fatalf("create %+v: %v", r, r.Err)
			}
		}
	}
	if err := produceErr(t, alice, "secure"); err != nil {
		t.Fatalf("alice's produce with WRITE: %v", err)
	}
	if err := produceErr(t, bob, "secure"); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("bob's produce: %v", err)
	}
	// Alice consumes in group g; bob may not join it. (The first FindCoordinator creates __consumer_offsets and is
	// answered COORDINATOR_NOT_AVAILABLE until it is loaded, as Kafka does; the group session retries that.)
	consumer := userClient(t, addr, "alice", kgo.ConsumerGroup("g"), kgo.ConsumeTopics("secure"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	for n := 0; n < 1; {
		fs := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatal("alice consumed nothing")
		}
		for _, e := range fs.Errors() {
			if !errors.Is(e.Err, kerr.CoordinatorNotAvailable) {
				t.Fatalf("alice's fetch: %v", e.Err)
			}
		}
		n += len(fs.Records())
	}
	// (franz-go looks the coordinator up first: FindCoordinator refuses bob, as it needs DESCRIBE on the group.)
	_, err := (&kmsg.JoinGroupRequest{Group: "g", SessionTimeoutMillis: 10000, RebalanceTimeoutMillis: 10000,
		ProtocolType: "consumer", Protocols: []kmsg.JoinGroupRequestProtocol{{Name: "range"}}}).RequestWith(ctx, bob)
	if !errors.Is(err, kerr.GroupAuthorizationFailed) {
		t.Fatalf("bob's JoinGroup: %v", err)
	}

	// DescribeAcls lists both bindings; the znode holds Kafka's JSON.
	dreq := kmsg.NewPtrDescribeACLsRequest()
	dreq.ResourceType, dreq.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
	dreq.Operation, dreq.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAllow
	described, err := dreq.RequestWith(ctx, userClient(t, addr, "admin"))
	if err != nil || described.ErrorCode != 0 {
		t.Fatalf("DescribeAcls: %+v %v", described, err)
	}
	var n int
	for _, r := range described.Resources {
		n += len(r.ACLs)
	}
	if n != 3 || len(described.Resources) != 2 {
		t.Fatalf("described %d ACLs: %+v", n, described.Resources)
	}
	zc, err := zkmeta.Connect(c.zk+"/kafka", 6*time.Second, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer zc.Close()
	data, _, err := zc.Get("/kafka-acl/Group/g")
	if err != nil || string(data) != `{"version":1,"acls":[{"principal":"User:alice","permissionType":"Allow","operation":"Read","host":"*"}]}` {
		t.Fatalf("group znode %s %v", data, err)
	}

	// An ACL written to ZooKeeper directly (as kafka-acls.sh --authorizer-properties does), with its change
	// notification, reaches the broker.
	if _, err := zc.Create("/kafka-acl/Topic/secure", nil, 0); err != nil && !errors.Is(err, zk.ErrNodeExists) {
		t.Fatal(err)
	}
	_, st, _ := zc.Get("/kafka-acl/Topic/secure")
	acls, _ := zkmeta.DecodeACLs(mustGet(t, zc, "/kafka-acl/Topic/secure"))
	acls = append(acls, zkmeta.ACLEntry{Principal: "User:bob", PermissionType: "Allow", Operation: "Write", Host: "*"})
	if _, err := zc.Set("/kafka-acl/Topic/secure", zkmeta.EncodeACLs(acls), st.Version); err != nil {
		t.Fatal(err)
	}
	if err := zc.CreateACLChangeNotification(zkmeta.ACLLiteralChangesPath, []byte("Topic:secure")); err != nil {
		t.Fatal(err)
	}
	c.waitFor("bob's WRITE from ZooKeeper", func() bool { return produceErr(t, bob, "secure") == nil })

	// Deleting alice's WRITE through DeleteAcls takes it away.
	del, err := admin.DeleteACLs(ctx, kadm.NewACLs().Allow("User:alice").AllowHosts("*").Topics("secure").Operations(kadm.OpWrite).
		ResourcePatternType(kadm.ACLPatternLiteral))
	if err != nil || len(del) != 1 || len(del[0].Deleted) != 1 || del[0].Err != nil {
		t.Fatalf("delete: %+v %v", del, err)
	}
	if err := produceErr(t, alice, "secure"); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("alice's produce after the delete: %v", err)
	}
	// Metadata: alice still sees the topic (READ implies DESCRIBE); a listing hides what bob cannot describe.
	meta, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tp := range meta.Topics {
		names = append(names, *tp.Topic)
	}
	if strings.Join(names, ",") != "secure" {
		t.Errorf("alice's topic listing %v", names)
	}
}

func mustGet(t *testing.T, zc *zkmeta.Client, path string) []byte {
	t.Helper()
	b, _, err := zc.Get(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Without an authorizer the ACL APIs answer SECURITY_DISABLED, and an authorizer class we do not have stops the
// start.
func TestACLAPIsWithoutAuthorizer(t *testing.T) {
	c := newCluster(t)
	c.start()
	cl := c.client()
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType, req.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
	req.Operation, req.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	resp, err := req.RequestWith(ctxT(t), cl)
	if err != nil || resp.ErrorCode != kerr.SecurityDisabled.Code {
		t.Fatalf("DescribeAcls: %+v %v", resp, err)
	}
	b := New(c.config("authorizer.class.name=com.example.Nope", "broker.id=1"), slog.Default())
	if err := b.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "ClassNotFoundException: com.example.Nope") {
		t.Fatalf("start with an unknown authorizer: %v", err)
	}
}

// TestACLHostIPv6: an ACL's host is matched with the client's address as Java's InetAddress.getHostAddress writes
// it (Kafka 2.8's AclAuthorizer compares the strings): a client on ::1 is "0:0:0:0:0:0:0:1", so an ACL for "::1"
// does not match it, and the client host DescribeGroups gives is "/0:0:0:0:0:0:0:1".
func TestACLHostIPv6(t *testing.T) {
	if l, err := net.Listen("tcp", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		l.Close()
	}
	c := newCluster(t)
	b := c.start(fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d,SASL_PLAINTEXT://[::1]:0", c.port),
		"sasl.enabled.mechanisms=PLAIN", "connection.failed.authentication.delay.ms=0",
		"listener.name.sasl_plaintext.plain.sasl.jaas.config="+aclJaas,
		"authorizer.class.name=kafka.security.authorizer.AclAuthorizer", "super.users=User:admin;User:ANONYMOUS")
	addr := b.Addr("SASL_PLAINTEXT").String()
	ctx := ctxT(t)
	admin := kadm.NewClient(userClient(t, addr, "admin"))
	if _, err := admin.CreateTopic(ctx, 1, 1, nil, "v6"); err != nil {
		t.Fatal(err)
	}
	alice := userClient(t, addr, "alice")
	grant := func(host string) {
		t.Helper()
		res, err := admin.CreateACLs(ctx, kadm.NewACLs().Allow("User:alice").AllowHosts(host).Topics("v6").
			Groups("g6").Operations(kadm.OpWrite, kadm.OpRead, kadm.OpDescribe).ResourcePatternType(kadm.ACLPatternLiteral))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				t.Fatalf("create %+v: %v", r, r.Err)
			}
		}
	}
	grant("::1")
	if err := produceErr(t, alice, "v6"); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("alice's produce with an ACL for host ::1: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	grant("0:0:0:0:0:0:0:1")
	if err := produceErr(t, alice, "v6"); err != nil {
		t.Fatalf("alice's produce with an ACL for host 0:0:0:0:0:0:0:1: %v", err)
	}
	// A member joins from ::1; DescribeGroups names its host as Kafka's InetAddress.toString does.
	join := &kmsg.JoinGroupRequest{Group: "g6", SessionTimeoutMillis: 10000, RebalanceTimeoutMillis: 10000,
		ProtocolType: "consumer", MemberID: "", Protocols: []kmsg.JoinGroupRequestProtocol{{Name: "range"}}}
	for {
		resp, err := join.RequestWith(ctx, alice)
		if err == nil && resp.ErrorCode == kerr.MemberIDRequired.Code {
			join.MemberID = resp.MemberID
			continue
		}
		if err != nil || resp.ErrorCode != 0 {
			if errors.Is(err, kerr.CoordinatorNotAvailable) && ctx.Err() == nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			t.Fatalf("JoinGroup: %+v %v", resp, err)
		}
		break
	}
	described, err := admin.DescribeGroups(ctx, "g6")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range described["g6"].Members {
		if m.ClientHost != "/0:0:0:0:0:0:0:1" {
			t.Errorf("member host %q, want /0:0:0:0:0:0:0:1", m.ClientHost)
		}
	}
	if len(described["g6"].Members) != 1 {
		t.Errorf("members %+v", described["g6"].Members)
	}
}
