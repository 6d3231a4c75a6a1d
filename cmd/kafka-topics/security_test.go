package main

import (
	"crypto/x509/pkix"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/compat/kerberos"
	"github.com/zkafka/zkafka/compat/kerberos/kdctest"
	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
	"github.com/zkafka/zkafka/kafkaserver/sasl"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// writeFile writes lines into dir/name and returns its path.
func writeFile(t *testing.T, dir, name string, lines ...string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCommandConfigSecurity: --bootstrap-server with a --command-config naming security.protocol, ssl.* and
// sasl.* reaches a broker's SSL listener (client certificate required) and its SASL_SSL one (PLAIN, credentials
// inline or from the JAAS file in KAFKA_OPTS; SCRAM-SHA-512 against a credential in ZooKeeper); refusals and bad
// settings end as TopicCommand 2.8 ends them.
const oauthModule = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"

func TestCommandConfigSecurity(t *testing.T) {
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "kafka-topics CA")
	trustJKS := ca.WriteTrustJKS(dir, "trust.jks", "trust-pw")
	zkAddr := startZkServer(t)
	// A SCRAM user, written as kafka-configs.sh --zookeeper writes it.
	zc := connectChroot(t, zkAddr, "/sec", nil)
	cred, err := sasl.NewScramCredential(sasl.MechanismScramSHA512, "bob-secret", []byte("bob-salt"), 4096)
	if err != nil {
		t.Fatal(err)
	}
	if err := zc.SetOrCreateEntityConfigs(zkmeta.ConfigTypeUser, "bob", map[string]string{sasl.MechanismScramSHA512: cred.String()}); err != nil {
		t.Fatal(err)
	}
	b, _ := startBroker(t, zkAddr+"/sec", 0,
		"listeners=SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0",
		"ssl.keystore.type=PKCS12",
		"ssl.keystore.location="+ca.Issue(pkix.Name{CommonName: "broker-0"}, "127.0.0.1").WritePKCS12(dir, "broker.p12", "store-pw"),
		"ssl.keystore.password=store-pw",
		"ssl.truststore.location="+trustJKS, "ssl.truststore.password=trust-pw",
		"listener.name.ssl.ssl.client.auth=required",
		"sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512,OAUTHBEARER",
		`listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=`+oauthModule+` required unsecuredLoginStringClaim_sub="admin" unsecuredValidatorRequiredScope="admin";`,
		`listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";`,
		`listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
		"connection.failed.authentication.delay.ms=0")
	sslAddr, saslAddr := b.Addr("SSL").String(), b.Addr("SASL_SSL").String()
	t.Setenv("KAFKA_OPTS", "")
	with := func(addr, config string, args ...string) result {
		t.Helper()
		return ktb(t, addr, append([]string{"--command-config", config}, args...)...)
	}

	// The usual client.properties: the login module over continued lines, a JKS trust store.
	inline := writeFile(t, dir, "inline.properties",
		"security.protocol=SASL_SSL", "sasl.mechanism=PLAIN",
		`sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \`,
		`    username="alice" \`, `    password="alice-secret";`,
		"ssl.truststore.location="+trustJKS, "ssl.truststore.password=trust-pw")
	expect(t, with(saslAddr, inline, "--create", "--topic", "secured", "--partitions", "2", "--replication-factor", "1"),
		0, "Created topic secured.\n")

	// The KafkaClient section of the JAAS file that KAFKA_OPTS names; a PEM trust store, lower-case protocol.
	jaasFile := writeFile(t, dir, "client.jaas", "KafkaClient {",
		`  org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="alice-secret";`, "};")
	fromFile := writeFile(t, dir, "file.properties", "security.protocol=sasl_ssl", "sasl.mechanism=PLAIN",
		"ssl.truststore.type=PEM", "ssl.truststore.location="+ca.WriteTrustPEM(dir, "ca.pem"))
	t.Setenv("KAFKA_OPTS", "-Djava.security.auth.login.config="+jaasFile)
	expect(t, with(saslAddr, fromFile, "--list"), 0, "secured\n")
	t.Setenv("KAFKA_OPTS", "")

	// SCRAM-SHA-512 with the user's credential from ZooKeeper.
	scramProps := writeFile(t, dir, "scram.properties", "security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-512",
		`sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="bob" password="bob-secret";`,
		"ssl.truststore.location="+trustJKS, "ssl.truststore.password=trust-pw")
	expect(t, with(saslAddr, scramProps, "--list"), 0, "secured\n")

	// OAUTHBEARER with an unsecured token made from the login module's options; one without the scope the
	// broker requires fails with the broker's JSON error.
	oauth := func(name, scope string) string {
		return writeFile(t, dir, name, "security.protocol=SASL_SSL", "sasl.mechanism=OAUTHBEARER",
			`sasl.jaas.config=`+oauthModule+` required unsecuredLoginStringClaim_sub="alice" unsecuredLoginListClaim_scope=",`+scope+`";`,
			"ssl.truststore.location="+trustJKS, "ssl.truststore.password=trust-pw")
	}
	expect(t, with(saslAddr, oauth("oauth.properties", "admin"), "--list"), 0, "secured\n")
	expect(t, with(saslAddr, oauth("oauth-read.properties", "read"), "--list"), 1,
		`Error while executing topic command : {"status":"insufficient_scope", "scope":"[admin]"}`+"\n")

	// SSL with a client certificate (JKS key store with its own key password).
	cert := writeFile(t, dir, "cert.properties", "security.protocol=SSL",
		"ssl.keystore.location="+ca.Issue(pkix.Name{CommonName: "alice"}).WriteJKS(dir, "alice.jks", "ks-pw", "key-pw"),
		"ssl.keystore.password=ks-pw", "ssl.key.password=key-pw",
		"ssl.truststore.location="+trustJKS, "ssl.truststore.password=trust-pw")
	r := with(sslAddr, cert, "--describe", "--topic", "secured")
	if r.code != 0 || !strings.Contains(r.stdout, "Topic: secured\tPartition: 1\tLeader: 0") {
		t.Fatalf("describe over SSL: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// SSL with a client certificate in a PEM file whose key is encrypted, ssl.key.password decrypting it; without
	// the key password the Admin client is not built (Kafka 2.8 wants it for a PEM key store file).
	pemStore := ca.Issue(pkix.Name{CommonName: "alice"}).WriteEncryptedPEM(dir, "alice.pem", "key-pw")
	pemCert := writeFile(t, dir, "pem.properties", "security.protocol=SSL", "ssl.keystore.type=PEM",
		"ssl.keystore.location="+pemStore, "ssl.key.password=key-pw",
		"ssl.truststore.location="+trustJKS, "ssl.truststore.password=trust-pw")
	expect(t, with(sslAddr, pemCert, "--list"), 0, "secured\n")
	noKeyPass := writeFile(t, dir, "pem-nopw.properties", "security.protocol=SSL", "ssl.keystore.type=PEM",
		"ssl.keystore.location="+pemStore, "ssl.truststore.location="+trustJKS, "ssl.truststore.password=trust-pw")
	if r := with(sslAddr, noKeyPass, "--list"); r.code != 1 || !strings.Contains(r.stderr, "ssl.key.password") {
		t.Errorf("PEM key store without ssl.key.password: exit %d, stderr %q", r.code, r.stderr)
	}

	wrong := writeFile(t, dir, "wrong.properties", "security.protocol=SASL_SSL", "sasl.mechanism=PLAIN",
		`sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="nope";`,
		"ssl.truststore.location="+trustJKS, "ssl.truststore.password=trust-pw")
	expect(t, with(saslAddr, wrong, "--list"), 1,
		"Error while executing topic command : Authentication failed: Invalid username or password\n")

	noCert := writeFile(t, dir, "nocert.properties", "security.protocol=SSL",
		"ssl.truststore.location="+trustJKS, "ssl.truststore.password=trust-pw")
	expect(t, with(sslAddr, noCert, "--list"), 1, "Error while executing topic command : SSL handshake failed\n")

	// Settings the Admin client cannot be built from: the exception escapes main with its cause.
	for _, c := range []struct {
		name  string
		props []string
		cause string
	}{
		{"no JAAS", []string{"security.protocol=SASL_PLAINTEXT", "sasl.mechanism=PLAIN"},
			"java.lang.IllegalArgumentException: Could not find a 'KafkaClient' entry in the JAAS configuration. " +
				"System property 'java.security.auth.login.config' is not set"},
		{"two modules", []string{"security.protocol=SASL_PLAINTEXT", "sasl.mechanism=PLAIN",
			`sasl.jaas.config=a.B required; c.D required;`},
			"java.lang.IllegalArgumentException: JAAS config property contains 2 login modules, should be 1 module"},
		{"unknown protocol", []string{"security.protocol=TLS"},
			"java.lang.IllegalArgumentException: No enum constant org.apache.kafka.common.security.auth.SecurityProtocol.TLS"},
	} {
		r := with(saslAddr, writeFile(t, dir, "bad.properties", c.props...), "--list")
		want := "Exception in thread \"main\" org.apache.kafka.common.KafkaException: Failed to create new KafkaAdminClient\n" +
			"Caused by: " + c.cause + "\n"
		if r.code != 1 || r.stdout != "" || r.stderr != want {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want stderr %q", c.name, r.code, r.stdout, r.stderr, want)
		}
	}
}

// TestZooKeeperTLS: --zookeeper reaches a TLS-only client port with the ZooKeeper client's system properties in
// KAFKA_OPTS, as kafka-topics.sh's KafkaZkClient takes them; with a JAAS Client section it also logs in with SASL
// and creates znodes with Kafka's secure ACLs for its sasl id; a wrong password fails as ZooKeeper's client does.
func TestZooKeeperTLS(t *testing.T) {
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "zk CA")
	trust := ca.WriteTrustJKS(dir, "trust.jks", "trust-pw")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	securePort := l.Addr().(*net.TCPAddr).Port
	l.Close()
	plain := startZkServer(t, fmt.Sprintf("secureClientPort=%d", securePort), "secureClientPortAddress=127.0.0.1",
		"serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
		"ssl.keyStore.location="+ca.Issue(pkix.Name{CommonName: "zookeeper"}, "127.0.0.1").WriteJKS(dir, "zk.jks", "zk-pw", "zk-pw"),
		"ssl.keyStore.password=zk-pw", "ssl.trustStore.location="+trust, "ssl.trustStore.password=trust-pw",
		"ssl.clientAuth=none")
	secure := fmt.Sprintf("127.0.0.1:%d/tls", securePort)
	tlsOpts := "-Dzookeeper.client.secure=true -Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty " +
		"-Dzookeeper.ssl.trustStore.location=" + trust + " -Dzookeeper.ssl.trustStore.password=trust-pw"
	t.Setenv("KAFKA_OPTS", tlsOpts)
	// The chroot and Kafka's top-level paths, made on the plain port.
	connectChroot(t, plain, "/tls", nil)
	expect(t, kt(t, secure, "--create", "--topic", "over-tls", "--replica-assignment", "0"), 0, "Created topic over-tls.\n")
	expect(t, kt(t, secure, "--list"), 0, "over-tls\n")

	jaas := func(password string) string {
		return writeFile(t, dir, "zk-"+password+".jaas", "Server {",
			`  org.apache.zookeeper.server.auth.DigestLoginModule required user_kafka="pw";`, "};", "Client {",
			`  org.apache.zookeeper.server.auth.DigestLoginModule required username="kafka" password="`+password+`";`, "};")
	}
	t.Setenv("SERVER_JVMFLAGS", "-Djava.security.auth.login.config="+jaas("pw"))
	saslZk := startZkServer(t, "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider")
	t.Setenv("KAFKA_OPTS", "-Djava.security.auth.login.config="+jaas("pw"))
	connectChroot(t, saslZk, "/sasl", nil)
	expect(t, kt(t, saslZk+"/sasl", "--create", "--topic", "over-sasl", "--replica-assignment", "0"), 0,
		"Created topic over-sasl.\n")
	zc, _, err := zk.Connect([]string{saslZk}, 5*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer zc.Close()
	acls, _, err := zc.GetACL("/sasl/brokers/topics/over-sasl")
	want := []zk.ACL{{Perms: zk.PermAll, Scheme: "sasl", ID: "kafka"}, {Perms: zk.PermRead, Scheme: "world", ID: "anyone"}}
	if err != nil || !reflect.DeepEqual(acls, want) {
		t.Fatalf("the topic's znode ACL: %v %v, want %v", acls, err, want)
	}
	t.Setenv("KAFKA_OPTS", "-Djava.security.auth.login.config="+jaas("wrong"))
	r := kt(t, saslZk+"/sasl", "--list")
	if r.code != 1 || r.stdout != "" || !strings.HasPrefix(r.stderr, "Exception in thread \"main\" "+
		"kafka.zookeeper.ZooKeeperClientAuthFailedException: Auth failed either before or while waiting for connection\n") {
		t.Fatalf("with a wrong password: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestCommandConfigGSSAPI: --command-config with SASL_PLAINTEXT and GSSAPI logs in with the Krb5LoginModule of
// sasl.jaas.config (a keytab) at an MIT KDC; without a service name the Admin client is not built, as in Kafka.
func TestCommandConfigGSSAPI(t *testing.T) {
	dir := t.TempDir()
	kdc := kdctest.Start(t)
	brokerKT := kdc.AddService(t, "kafka/localhost")
	aliceKT := kdc.AddService(t, "alice")
	t.Setenv("KAFKA_OPTS", "-Djava.security.krb5.conf="+kdc.Krb5Conf)
	b, _ := startBroker(t, startZkServer(t)+"/krb", 0, "listeners=SASL_PLAINTEXT://localhost:0",
		"security.inter.broker.protocol=SASL_PLAINTEXT", "sasl.mechanism.inter.broker.protocol=GSSAPI",
		"sasl.enabled.mechanisms=GSSAPI", "sasl.kerberos.service.name=kafka",
		`listener.name.sasl_plaintext.gssapi.sasl.jaas.config=`+kerberos.LoginModule+` required useKeyTab=true keyTab="`+
			brokerKT+`" principal="kafka/localhost";`)
	addr := b.Addr("SASL_PLAINTEXT").String()
	module := `sasl.jaas.config=` + kerberos.LoginModule + ` required useKeyTab=true keyTab="` + aliceKT + `" principal="alice";`
	props := writeFile(t, dir, "krb.properties", "security.protocol=SASL_PLAINTEXT", "sasl.kerberos.service.name=kafka", module)
	expect(t, ktb(t, addr, "--command-config", props, "--create", "--topic", "kerberized", "--partitions", "1",
		"--replication-factor", "1"), 0, "Created topic kerberized.\n")
	expect(t, ktb(t, addr, "--command-config", props, "--list"), 0, "kerberized\n")

	noService := writeFile(t, dir, "nosvc.properties", "security.protocol=SASL_PLAINTEXT", module)
	r := ktb(t, addr, "--command-config", noService, "--list")
	want := "Exception in thread \"main\" org.apache.kafka.common.KafkaException: Failed to create new KafkaAdminClient\n" +
		"Caused by: org.apache.kafka.common.KafkaException: java.lang.IllegalArgumentException: " +
		"No serviceName defined in either JAAS or Kafka config\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("without a service name: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
