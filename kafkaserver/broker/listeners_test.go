package broker

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
)

// TestDynamicListeners adds an SSL listener to a running broker and takes it away again through
// IncrementalAlterConfigs, as kafka-configs.sh --alter --add-config listeners=... does (KIP-226): the listener
// opens with its listener.name.<l>.ssl.* store, the broker's registration in /brokers/ids/0 gains the endpoint
// with its epoch kept, the controller sends it on, so a client bootstrapped on the new listener is told to
// stay there and can produce; removed, the listener closes and leaves the registration.
func TestDynamicListeners(t *testing.T) {
	c := newCluster(t)
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "zkafka test CA")
	cert := ca.Issue(pkix.Name{CommonName: "broker-0"}, "127.0.0.1")
	b := c.start("password.encoder.secret=encoder-secret")
	plain := fmt.Sprintf("PLAINTEXT://127.0.0.1:%d", c.port)
	regBefore, _, err := b.ZK().GetBroker(0)
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(c.client())
	alter := func(kv ...string) {
		t.Helper()
		var cfgs []kadm.AlterConfig
		for _, s := range kv {
			k, v, _ := strings.Cut(s, "=")
			cfgs = append(cfgs, kadm.AlterConfig{Name: k, Value: &v})
		}
		res, err := adm.AlterBrokerConfigs(ctxT(t), cfgs, b.ID())
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Err != nil {
			t.Fatalf("alter %v: %v: %s", kv, res[0].Err, res[0].ErrMessage)
		}
	}
	endpoints := func() []string {
		reg, ok, err := b.ZK().GetBroker(0)
		if err != nil || !ok {
			t.Fatalf("registration: %v %v", ok, err)
		}
		if reg.Epoch != regBefore.Epoch {
			t.Fatalf("registration epoch %d, was %d", reg.Epoch, regBefore.Epoch)
		}
		var out []string
		for _, e := range reg.Endpoints {
			out = append(out, e.ConnectionString())
		}
		return out
	}

	// The listener's port is one we pick, so that the advertised one names it too.
	port := freePort(t)
	external := fmt.Sprintf("EXTERNAL://127.0.0.1:%d", port)
	alter("listeners="+plain+","+external, "advertised.listeners="+plain+","+external,
		"listener.security.protocol.map=PLAINTEXT:PLAINTEXT,EXTERNAL:SSL",
		"listener.name.external.ssl.keystore.type=PKCS12",
		"listener.name.external.ssl.keystore.location="+cert.WritePKCS12(dir, "ext.p12", "ext-pw"),
		"listener.name.external.ssl.keystore.password=ext-pw")
	c.waitFor("the EXTERNAL listener", func() bool { return b.Addr("EXTERNAL") != nil })
	extAddr := b.Addr("EXTERNAL").String()
	if got := servedCert(t, extAddr, ca); !got.Equal(cert.Cert) {
		t.Fatalf("EXTERNAL serves %v", got.Subject)
	}
	c.waitFor("the registration with EXTERNAL", func() bool { return slices.Equal(endpoints(), []string{plain, external}) })

	// A client of the new listener: the metadata it gets names the broker at its EXTERNAL endpoint, which
	// the controller's UpdateMetadata brought.
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	ext, err := kgo.NewClient(kgo.SeedBrokers(extAddr), kgo.DialTLSConfig(&tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}),
		kgo.DefaultProduceTopic("via-external"), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer ext.Close()
	c.waitFor("metadata naming the EXTERNAL endpoint", func() bool {
		resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctxT(t), ext)
		return err == nil && len(resp.Brokers) == 1 && resp.Brokers[0].Port == int32(port)
	})
	if err := ext.ProduceSync(ctxT(t), &kgo.Record{Value: []byte("over SSL")}).FirstErr(); err != nil {
		t.Fatalf("produce through EXTERNAL: %v", err)
	}

	// Taken away: the listener closes, the registration drops it, PLAINTEXT serves on.
	alter("listeners="+plain, "advertised.listeners="+plain)
	c.waitFor("EXTERNAL closed", func() bool { return b.Addr("EXTERNAL") == nil })
	if conn, err := net.Dial("tcp", extAddr); err == nil {
		conn.Close()
		t.Fatalf("%s still accepts connections", extAddr)
	}
	c.waitFor("the registration without EXTERNAL", func() bool { return slices.Equal(endpoints(), []string{plain}) })
	topics, err := adm.ListTopics(ctxT(t))
	if err != nil || !topics.Has("via-external") {
		t.Fatalf("PLAINTEXT after the removal: %v %v", topics.Names(), err)
	}
}
