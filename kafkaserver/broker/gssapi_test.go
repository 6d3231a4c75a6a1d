package broker

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/compat/jaas"
	"github.com/zkafka/zkafka/compat/kerberos"
	"github.com/zkafka/zkafka/compat/kerberos/kdctest"
	"github.com/zkafka/zkafka/kafkaserver/sasl"
)

// kerberosLogin is a client's Krb5LoginModule section with a keytab.
func kerberosLogin(t *testing.T, kdc *kdctest.KDC, keytab, principal string) *kerberos.Login {
	t.Helper()
	mods, err := jaas.ParseConfig(fmt.Sprintf(`%s required useKeyTab=true keyTab="%s" principal="%s";`,
		kerberos.LoginModule, keytab, principal))
	if err != nil {
		t.Fatal(err)
	}
	l, err := kerberos.FromJAAS(mods[0], map[string]string{"java.security.krb5.conf": kdc.Krb5Conf})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestSASLGSSAPI runs Kerberos against a real MIT KDC: two brokers logged in with one service keytab, replica
// fetches and controller requests over GSSAPI, clients named by sasl.kerberos.principal.to.local.rules and
// authorized by those names, and a Kafka 0.9 client's raw GSSAPI tokens without SaslHandshake.
func TestSASLGSSAPI(t *testing.T) {
	kdc := kdctest.Start(t)
	kt := kdc.AddService(t, "kafka/localhost")
	aliceKT := kdc.AddService(t, "alice")
	bobKT := kdc.AddService(t, "bob")
	carolKT := kdc.AddService(t, "carol")
	t.Setenv("KAFKA_OPTS", "-Djava.security.krb5.conf="+kdc.Krb5Conf)

	c := newCluster(t)
	common := []string{"sasl.enabled.mechanisms=GSSAPI", "sasl.mechanism.inter.broker.protocol=GSSAPI",
		"security.inter.broker.protocol=SASL_PLAINTEXT", "sasl.kerberos.service.name=kafka",
		"listener.name.sasl_plaintext.gssapi.sasl.jaas.config=" + kerberos.LoginModule +
			` required useKeyTab=true storeKey=true keyTab="` + kt + `" principal="kafka/localhost@` + kdctest.Realm + `";`,
		"sasl.kerberos.principal.to.local.rules=RULE:[1:$1@$0](alice@" + kdctest.Realm + ")s/.*/alicia/," +
			"RULE:[1:$1](bob),RULE:[2:$1](kafka)",
		"authorizer.class.name=kafka.security.authorizer.AclAuthorizer", "super.users=User:kafka;User:alicia;User:ANONYMOUS",
		"connection.failed.authentication.delay.ms=0", "offsets.topic.replication.factor=1"}
	b0, b1 := startSASLPair(t, c, common)
	ctx := ctxT(t)
	createAssigned(t, ctx, c.client(), "krb", []int32{1, 0})

	addr := b1.Addr("SASL_PLAINTEXT").String()
	alice := saslClient(t, addr, sasl.NewGSSAPIClient(kerberosLogin(t, kdc, aliceKT, "alice"), "kafka"),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"krb": {0: kgo.NewOffset().AtStart()}}))
	produceN(t, alice, "krb", 0, 0, 3)
	pollN(t, alice, 3)
	c.waitFor("follower caught up over GSSAPI", func() bool {
		l, ok := b0.logs.Get("krb", 0)
		return ok && l.LogEndOffset() == 3
	})

	// bob is User:bob, and has no ACLs.
	bob := saslClient(t, addr, sasl.NewGSSAPIClient(kerberosLogin(t, kdc, bobKT, "bob"), "kafka"))
	err := bob.ProduceSync(ctx, &kgo.Record{Topic: "krb", Value: []byte("x")}).FirstErr()
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("bob produced: %v", err)
	}

	// No rule maps carol: she authenticates, and her first request closes the connection, as in Kafka.
	carol := saslClient(t, addr, sasl.NewGSSAPIClient(kerberosLogin(t, kdc, carolKT, "carol"), "kafka"))
	ctx3, cancel3 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel3()
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx3, carol); err == nil {
		t.Fatal("a client without a principal was answered")
	}

	// A client asking for a ticket to another service name never gets in.
	wrong := saslClient(t, addr, sasl.NewGSSAPIClient(kerberosLogin(t, kdc, aliceKT, "alice"), "zookeeper"))
	ctx2, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx2, wrong); err == nil {
		t.Fatal("authenticated without a kafka/localhost ticket")
	}

	// A Kafka 0.9 client sends GSSAPI tokens first, without SaslHandshake, and gets raw tokens back.
	kc, err := kerberosLogin(t, kdc, aliceKT, "alice").Client()
	if err != nil {
		t.Fatal(err)
	}
	sc, tok, err := kerberos.StartSASL(context.Background(), nil, kc, "kafka", "localhost", "")
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	for done := false; !done; {
		writeFrame(t, nc, tok)
		ch := readFrame(t, nc)
		if tok, done, err = sc.Step(ch); err != nil {
			t.Fatal(err)
		}
	}
	writeFrame(t, nc, tok) // the last token has no answer
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 0
	frame := append(binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, 3), 0), 0, 0, 0, 7, 0, 3, 'c', 'l', 'i')
	writeFrame(t, nc, req.AppendTo(frame))
	rsp := readFrame(t, nc)
	if binary.BigEndian.Uint32(rsp) != 7 {
		t.Fatalf("metadata answer after raw GSSAPI: % x", rsp[:min(len(rsp), 16)])
	}
}

func writeFrame(t *testing.T, w io.Writer, b []byte) {
	t.Helper()
	if _, err := w.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)); err != nil {
		t.Fatal(err)
	}
}

func readFrame(t *testing.T, r io.Reader) []byte {
	t.Helper()
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, binary.BigEndian.Uint32(n[:]))
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatal(err)
	}
	return b
}
