package sasl

import (
	"context"
	"sync"

	"github.com/jcmturner/gokrb5/v8/client"
	kgosasl "github.com/twmb/franz-go/pkg/sasl"

	"github.com/zkafka/zkafka/compat/jaas"
	"github.com/zkafka/zkafka/compat/kerberos"
	"github.com/zkafka/zkafka/compat/serverprops"
)

// GSSAPIClient logs a franz-go client in with Kerberos, as Kafka's Java client does for the broker's own
// connections and for tools: a service ticket for <service name>/<broker host>, the host as
// InetAddress.getHostName gives it (an address is looked up in reverse), mutual authentication, no security layer.
type GSSAPIClient struct {
	login   *kerberos.Login
	service string

	mu sync.Mutex
	kc *client.Client
}

// NewGSSAPIClient returns the mechanism for login (a Krb5LoginModule section) and the service name.
func NewGSSAPIClient(login *kerberos.Login, serviceName string) *GSSAPIClient {
	return &GSSAPIClient{login: login, service: serviceName}
}

// Name implements kgosasl.Mechanism.
func (g *GSSAPIClient) Name() string { return MechanismGSSAPI }

// Authenticate implements kgosasl.Mechanism.
func (g *GSSAPIClient) Authenticate(ctx context.Context, addr string) (kgosasl.Session, []byte, error) {
	kc, err := g.client()
	if err != nil {
		return nil, nil, err
	}
	sc, first, err := kerberos.StartSASL(ctx, nil, kc, g.service, kerberos.ServiceHost(ctx, addr), "")
	if err != nil {
		return nil, nil, err
	}
	return gssapiSession{sc}, first, nil
}

// Login logs in with the KDC now, as the Java client's KerberosLogin does when it is configured.
func (g *GSSAPIClient) Login() error {
	_, err := g.client()
	return err
}

// client logs in once; gokrb5 renews the ticket-granting ticket itself.
func (g *GSSAPIClient) client() (*client.Client, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.kc != nil {
		return g.kc, nil
	}
	kc, err := g.login.Client()
	if err != nil {
		return nil, err
	}
	g.kc = kc
	return kc, nil
}

type gssapiSession struct{ c *kerberos.SASLClient }

func (s gssapiSession) Challenge(ch []byte) (bool, []byte, error) {
	resp, done, err := s.c.Step(ch)
	return done, resp, err
}

// GSSAPIClientFromJaas is the broker's own Kerberos client on a listener, logged in as the listener's server
// context says (the inter-broker channel logs in with the server's JAAS context, as Kafka's does).
func GSSAPIClientFromJaas(cfg *serverprops.Config, listener string, mods []jaas.LoginModule,
	jvm map[string]string) (*GSSAPIClient, error) {
	service, err := KerberosServiceName(cfg, listener, mods)
	if err != nil {
		return nil, err
	}
	login, err := kerberos.FromContext(mods, jvm)
	if err != nil {
		return nil, err
	}
	return NewGSSAPIClient(login, service), nil
}
