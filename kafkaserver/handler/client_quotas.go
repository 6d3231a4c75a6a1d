package handler

import (
	"context"
	"fmt"
	"maps"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/compat/javafmt"
	"github.com/zkafka/zkafka/kafkaserver/quota"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
	"github.com/zkafka/zkafka/kwire"
)

// Entity types of the client quota APIs (ClientQuotaEntity).
const (
	quotaEntityUser   = "user"
	quotaEntityClient = "client-id"
	quotaEntityIP     = "ip"
)

// quotaKeyTypes are the keys a user or client quota may set, with their ConfigDef types (DynamicConfig.Client;
// DynamicConfig.User adds the SCRAM credentials, which are not quotas).
var quotaKeyTypes = map[string]string{
	quota.ProducerByteRate: "LONG", quota.ConsumerByteRate: "LONG", quota.RequestPercentage: "DOUBLE",
	quota.ControllerMutationRate: "DOUBLE",
}

// ipQuotaKeyTypes are DynamicConfig.Ip's keys.
var ipQuotaKeyTypes = map[string]string{"connection_creation_rate": "INT"}

// sanitizeQuotaName is a quota entity name as its znode is named: <default> for null, else sanitized.
func sanitizeQuotaName(name *string) string {
	if name == nil {
		return quota.DefaultEntity
	}
	return quota.Sanitize(*name)
}

// desanitizeQuotaName is the reverse: nil for <default>.
func desanitizeQuotaName(s string) (*string, error) {
	if s == quota.DefaultEntity {
		return nil, nil
	}
	d, err := quota.Desanitize(s)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// describeClientQuotas is ZkAdminManager.describeClientQuotas: the quotas stored in ZooKeeper whose entities match
// the filter's components (a name, the default, or any), with strict leaving out entities with other parts.
func (h *Handlers) describeClientQuotas(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.DescribeClientQuotasRequest)
	if !ok {
		return nil, fmt.Errorf("describeClientQuotas: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.DescribeClientQuotasResponse)
	resp.Version = req.Version
	if !h.authorizeCluster(rc, kmsg.ACLOperationDescribeConfigs) {
		// DescribeClientQuotasRequest.getErrorResponse: the error alone (its message is the error's own: none).
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp, nil
	}
	entries, err := h.quotaEntries(req)
	if err != nil {
		resp.ErrorCode, resp.ErrorMessage = apiError(err)
		return resp, nil
	}
	resp.Entries = entries
	return resp, nil
}

// quotaFilter is one filter component: nil match means any name; default means the <default> entity.
type quotaFilter struct {
	set   bool
	any   bool
	match *string // nil with !any: the default entity
}

func (f quotaFilter) exact() bool { return f.set && !f.any }

// matches is the component's test of an entity's name part (nil name: the entity has no such part; a default
// part is a name of nil held in *present).
func (f quotaFilter) matches(present bool, name *string, strict bool) bool {
	if !f.set {
		return !present || !strict
	}
	if f.any {
		return present
	}
	if !present {
		return false
	}
	if f.match == nil {
		return name == nil
	}
	return name != nil && *name == *f.match
}

type quotaEntityParts struct {
	hasUser, hasClient bool
	user, client       *string // nil: <default>
}

func (h *Handlers) quotaEntries(req *kmsg.DescribeClientQuotasRequest) ([]kmsg.DescribeClientQuotasResponseEntry, error) {
	var user, client, ip quotaFilter
	for _, c := range req.Components {
		var f *quotaFilter
		switch c.EntityType {
		case quotaEntityUser:
			f = &user
		case quotaEntityClient:
			f = &client
		case quotaEntityIP:
			f = &ip
		case "":
			return nil, &messageError{kerr.InvalidRequest, "Unexpected empty filter component entity type"}
		default:
			return nil, &messageError{kerr.UnsupportedVersion, fmt.Sprintf("Custom entity type '%s' not supported", c.EntityType)}
		}
		if f.set {
			return nil, &messageError{kerr.InvalidRequest, fmt.Sprintf("Duplicate %s filter component entity type",
				map[string]string{quotaEntityUser: "user", quotaEntityClient: "client", quotaEntityIP: "ip"}[c.EntityType])}
		}
		f.set = true
		switch c.MatchType {
		case 0:
			f.match = c.Match
			if f.match == nil {
				f.match = new(string) // Java's Optional.of(null) would throw; an exact match of nothing matches nothing
			}
		case 1:
		case 2:
			f.any = true
		default:
			return nil, &messageError{kerr.UnknownServerError, fmt.Sprintf("Unexpected match type: %d", c.MatchType)}
		}
	}
	if (user.set || client.set) && ip.set {
		return nil, &messageError{kerr.InvalidRequest, "Invalid entity filter component combination, IP filter " +
			"component should not be used with user or clientId filter component."}
	}
	var out []kmsg.DescribeClientQuotasResponseEntry
	if !ip.set {
		es, err := h.userClientQuotas(user, client, req.Strict)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
	}
	if !user.set && !client.set {
		es, err := h.ipQuotas(ip, req.Strict)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
	}
	return out, nil
}

// userClientQuotas reads the znodes the filters can match, as handleDescribeClientQuotas does.
func (h *Handlers) userClientQuotas(user, client quotaFilter, strict bool) ([]kmsg.DescribeClientQuotasResponseEntry, error) {
	type found struct {
		parts  quotaEntityParts
		config map[string]string
	}
	var all []found
	read := func(typ, path string, parts quotaEntityParts) error {
		config, err := h.zk.GetEntityConfigs(typ, path)
		if err != nil {
			return fmt.Errorf("quota configs of %s/%s: %w", typ, path, err)
		}
		all = append(all, found{parts, config})
		return nil
	}
	// every lists /config/<typ> (or each user's clients) and reads each entity.
	every := func(typ string, parts func(name string) (quotaEntityParts, error)) error {
		names, err := h.zk.GetAllEntitiesWithConfig(typ)
		if err != nil {
			return err
		}
		slices.Sort(names)
		for _, n := range names {
			p, err := parts(n)
			if err != nil {
				return err
			}
			if err := read(typ, n, p); err != nil {
				return err
			}
		}
		return nil
	}
	excludeUser, excludeClient := strict && !user.set, strict && !client.set
	switch {
	case user.exact() && excludeClient:
		if err := read(zkmeta.ConfigTypeUser, sanitizeQuotaName(user.match), quotaEntityParts{hasUser: true, user: user.match}); err != nil {
			return nil, err
		}
	case !excludeUser && !client.exact():
		if err := every(zkmeta.ConfigTypeUser, func(n string) (quotaEntityParts, error) {
			u, err := desanitizeQuotaName(n)
			return quotaEntityParts{hasUser: true, user: u}, err
		}); err != nil {
			return nil, err
		}
	}
	switch {
	case excludeUser && client.exact():
		if err := read(zkmeta.ConfigTypeClient, sanitizeQuotaName(client.match), quotaEntityParts{hasClient: true, client: client.match}); err != nil {
			return nil, err
		}
	case !user.exact() && !excludeClient:
		if err := every(zkmeta.ConfigTypeClient, func(n string) (quotaEntityParts, error) {
			c, err := desanitizeQuotaName(n)
			return quotaEntityParts{hasClient: true, client: c}, err
		}); err != nil {
			return nil, err
		}
	}
	switch {
	case user.exact() && client.exact():
		path := sanitizeQuotaName(user.match) + "/clients/" + sanitizeQuotaName(client.match)
		if err := read(zkmeta.ConfigTypeUser, path, quotaEntityParts{true, true, user.match, client.match}); err != nil {
			return nil, err
		}
	case !excludeUser && !excludeClient:
		names, err := h.zk.GetAllUserClientEntities()
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			u, c, _ := strings.Cut(n, "/clients/")
			un, err := desanitizeQuotaName(u)
			if err != nil {
				return nil, err
			}
			cn, err := desanitizeQuotaName(c)
			if err != nil {
				return nil, err
			}
			if err := read(zkmeta.ConfigTypeUser, n, quotaEntityParts{true, true, un, cn}); err != nil {
				return nil, err
			}
		}
	}
	var out []kmsg.DescribeClientQuotasResponseEntry
	for _, f := range all {
		values, err := quotaValues(f.config, quotaKeyTypes)
		if err != nil {
			return nil, err
		}
		if len(values) == 0 || !user.matches(f.parts.hasUser, f.parts.user, strict) ||
			!client.matches(f.parts.hasClient, f.parts.client, strict) {
			continue
		}
		e := kmsg.NewDescribeClientQuotasResponseEntry()
		if f.parts.hasUser {
			e.Entity = append(e.Entity, kmsg.DescribeClientQuotasResponseEntryEntity{Type: quotaEntityUser, Name: f.parts.user})
		}
		if f.parts.hasClient {
			e.Entity = append(e.Entity, kmsg.DescribeClientQuotasResponseEntryEntity{Type: quotaEntityClient, Name: f.parts.client})
		}
		e.Values = values
		out = append(out, e)
	}
	return out, nil
}

// ipQuotas is handleDescribeIpQuotas.
func (h *Handlers) ipQuotas(ip quotaFilter, strict bool) ([]kmsg.DescribeClientQuotasResponseEntry, error) {
	var names []string
	switch {
	case ip.exact():
		names = []string{sanitizeQuotaName(ip.match)}
	case ip.any || (!ip.set && !strict):
		var err error
		if names, err = h.zk.GetAllEntitiesWithConfig(zkmeta.ConfigTypeIP); err != nil {
			return nil, err
		}
		slices.Sort(names)
	}
	var out []kmsg.DescribeClientQuotasResponseEntry
	for _, n := range names {
		config, err := h.zk.GetEntityConfigs(zkmeta.ConfigTypeIP, n)
		if err != nil {
			return nil, err
		}
		values, err := quotaValues(config, ipQuotaKeyTypes)
		if err != nil {
			return nil, err
		}
		if len(values) == 0 {
			continue
		}
		name, err := desanitizeQuotaName(n)
		if err != nil {
			return nil, err
		}
		e := kmsg.NewDescribeClientQuotasResponseEntry()
		e.Entity = []kmsg.DescribeClientQuotasResponseEntryEntity{{Type: quotaEntityIP, Name: name}}
		e.Values = values
		out = append(out, e)
	}
	return out, nil
}

// quotaValues are the quota keys of a stored config as doubles (fromProps).
func quotaValues(config map[string]string, keys map[string]string) ([]kmsg.DescribeClientQuotasResponseEntryValue, error) {
	var out []kmsg.DescribeClientQuotasResponseEntryValue
	for _, k := range slices.Sorted(maps.Keys(config)) {
		if _, ok := keys[k]; !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(config[k]), 64)
		if err != nil {
			return nil, &messageError{kerr.UnknownServerError, fmt.Sprintf("Unexpected client quota configuration value: %s -> %s", k, config[k])}
		}
		out = append(out, kmsg.DescribeClientQuotasResponseEntryValue{Key: k, Value: v})
	}
	return out, nil
}

// alterClientQuotas is ZkAdminManager.alterClientQuotas: each entity's znode gets the ops applied (a removal
// deletes the key; a LONG or INT key must be a whole number) and is written with a change notification, unless
// validate_only.
func (h *Handlers) alterClientQuotas(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.AlterClientQuotasRequest)
	if !ok {
		return nil, fmt.Errorf("alterClientQuotas: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.AlterClientQuotasResponse)
	resp.Version = req.Version
	// ALTER_CONFIGS on the cluster, or AlterClientQuotasRequest.getErrorResponse: every entry with the error and
	// its message.
	denied := !h.authorizeCluster(rc, kmsg.ACLOperationAlterConfigs)
	for _, e := range req.Entries {
		re := kmsg.NewAlterClientQuotasResponseEntry()
		for _, ent := range e.Entity {
			re.Entity = append(re.Entity, kmsg.AlterClientQuotasResponseEntryEntity{Type: ent.Type, Name: ent.Name})
		}
		if denied {
			re.ErrorCode = kerr.ClusterAuthorizationFailed.Code
			re.ErrorMessage = authFailedMessage(kerr.ClusterAuthorizationFailed)
			resp.Entries = append(resp.Entries, re)
			continue
		}
		err := h.alterQuotaEntity(e, req.ValidateOnly)
		if err != nil {
			h.logger.Info("Error encountered while updating client quotas", "err", err)
		}
		re.ErrorCode, re.ErrorMessage = apiError(err)
		resp.Entries = append(resp.Entries, re)
	}
	return resp, nil
}

func (h *Handlers) alterQuotaEntity(e kmsg.AlterClientQuotasRequestEntry, validateOnly bool) error {
	if len(e.Entity) == 0 {
		return &messageError{kerr.InvalidRequest, "Invalid empty client quota entity"}
	}
	// The request's entity is a map: a type named twice keeps its last name.
	names := map[string]*string{}
	for _, ent := range e.Entity {
		switch ent.Type {
		case quotaEntityUser, quotaEntityClient, quotaEntityIP:
		default:
			return &messageError{kerr.InvalidRequest, "Unhandled client quota entity type: " + ent.Type}
		}
		if ent.Name != nil && *ent.Name == "" {
			return &messageError{kerr.InvalidRequest, fmt.Sprintf("Empty %s not supported", ent.Type)}
		}
		names[ent.Type] = ent.Name
	}
	user, hasUser := names[quotaEntityUser]
	client, hasClient := names[quotaEntityClient]
	ip, hasIP := names[quotaEntityIP]
	var typ, path string
	keys := quotaKeyTypes
	switch {
	case hasIP && (hasUser || hasClient):
		return &messageError{kerr.InvalidRequest, "Invalid quota entity combination, IP entity should not be used with user/client ID entity."}
	case hasIP:
		if ip != nil && net.ParseIP(*ip) == nil {
			// Kafka also takes a host name it can resolve; resolving is left out.
			return &messageError{kerr.InvalidRequest, sanitizeQuotaName(ip) + " is not a valid IP or resolvable host."}
		}
		typ, path, keys = zkmeta.ConfigTypeIP, sanitizeQuotaName(ip), ipQuotaKeyTypes
	case hasUser && hasClient:
		typ, path = zkmeta.ConfigTypeUser, sanitizeQuotaName(user)+"/clients/"+sanitizeQuotaName(client)
	case hasUser:
		typ, path = zkmeta.ConfigTypeUser, sanitizeQuotaName(user)
	default:
		typ, path = zkmeta.ConfigTypeClient, sanitizeQuotaName(client)
	}
	config, err := h.zk.GetEntityConfigs(typ, path)
	if err != nil {
		return fmt.Errorf("quota configs of %s/%s: %w", typ, path, err)
	}
	for _, op := range e.Ops {
		if op.Remove {
			delete(config, op.Key)
			continue
		}
		kind, ok := keys[op.Key]
		if !ok {
			return &messageError{kerr.InvalidRequest, "Invalid configuration key " + op.Key}
		}
		switch kind {
		case "DOUBLE":
			config[op.Key] = javafmt.Double(op.Value)
		default:
			const epsilon = 1e-6
			n := math.Trunc(op.Value + epsilon)
			if kind == "INT" {
				n = float64(int32(max(min(n, math.MaxInt32), math.MinInt32)))
			} else {
				n = float64(int64(max(min(n, math.MaxInt64), math.MinInt64)))
			}
			if math.Abs(n-op.Value) > epsilon {
				return &messageError{kerr.InvalidRequest, fmt.Sprintf("Configuration %s must be a %s value", op.Key, kind)}
			}
			config[op.Key] = strconv.FormatInt(int64(n), 10)
		}
	}
	if validateOnly {
		return nil
	}
	if err := h.zk.SetOrCreateEntityConfigs(typ, path, config); err != nil {
		return fmt.Errorf("write quota configs of %s/%s: %w", typ, path, err)
	}
	if _, err := h.zk.CreateConfigChangeNotification(typ + "/" + path); err != nil {
		return fmt.Errorf("config change notification for %s/%s: %w", typ, path, err)
	}
	return nil
}
