package handler

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/acl"
	"github.com/zkafka/zkafka/kafkaserver/dynconfig"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
	"github.com/zkafka/zkafka/kwire"
)

// describeConfigs is ConfigHelper.describeConfigs for topics (overrides from /config/topics/<t> over this broker's
// defaults), brokers (this broker's own configs, or the cluster defaults for an empty name) and broker loggers
// (this broker's loggers and their levels).
func (h *Handlers) describeConfigs(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.DescribeConfigsRequest)
	if !ok {
		return nil, fmt.Errorf("describeConfigs: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	resp.Version = req.Version
	// handleDescribeConfigsRequest: DESCRIBE_CONFIGS on each resource; the refused ones come last, with the error's
	// message and no configs.
	var refused []kmsg.DescribeConfigsResponseResource
	for _, res := range req.Resources {
		rr := kmsg.NewDescribeConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
		e := h.configResourceDenied(rc, res.ResourceType, res.ResourceName, kmsg.ACLOperationDescribeConfigs, true)
		if e != nil {
			rr.ErrorCode, rr.ErrorMessage = e.Code, authFailedMessage(e)
			refused = append(refused, rr)
			continue
		}
		entries, err := h.describeResource(res)
		if err != nil {
			rr.ErrorCode, rr.ErrorMessage = apiError(err)
			resp.Resources = append(resp.Resources, rr)
			continue
		}
		for _, e := range entries {
			if res.ConfigNames != nil && !slices.Contains(res.ConfigNames, e.Name) {
				continue
			}
			c := kmsg.NewDescribeConfigsResponseResourceConfig()
			c.Name, c.Value, c.ReadOnly, c.IsSensitive = e.Name, e.Value, e.ReadOnly, e.IsSensitive
			c.Source = kmsg.ConfigSource(e.Source)
			c.IsDefault = e.Source == serverprops.SourceDefaultConfig
			if req.Version >= 3 {
				c.ConfigType = kmsg.ConfigType(e.Type)
			}
			if req.Version >= 1 && req.IncludeSynonyms {
				for _, s := range e.Synonyms {
					cs := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
					cs.Name, cs.Value, cs.Source = s.Name, s.Value, kmsg.ConfigSource(s.Source)
					c.ConfigSynonyms = append(c.ConfigSynonyms, cs)
				}
			}
			rr.Configs = append(rr.Configs, c)
		}
		resp.Resources = append(resp.Resources, rr)
	}
	resp.Resources = append(resp.Resources, refused...)
	return resp, nil
}

// configResourceDenied is the check of the config APIs: op on the cluster for a broker (and, when loggerIsCluster,
// a broker logger), on the topic for a topic; nil when allowed. Other types are not checked: they fail on their own.
func (h *Handlers) configResourceDenied(rc *kwire.RequestContext, t kmsg.ConfigResourceType, name string,
	op acl.Operation, loggerIsCluster bool) *kerr.Error {
	switch {
	case t == kmsg.ConfigResourceTypeBroker || loggerIsCluster && t == kmsg.ConfigResourceTypeBrokerLogger:
		if !h.authorizeCluster(rc, op) {
			return kerr.ClusterAuthorizationFailed
		}
	case t == kmsg.ConfigResourceTypeTopic:
		if !h.authorize(rc, op, kmsg.ACLResourceTypeTopic, name) {
			return kerr.TopicAuthorizationFailed
		}
	}
	return nil
}

func (h *Handlers) describeResource(res kmsg.DescribeConfigsRequestResource) ([]serverprops.ConfigEntry, error) {
	switch res.ResourceType {
	case kmsg.ConfigResourceTypeTopic:
		if err := zkmeta.ValidateTopicName(res.ResourceName); err != nil {
			return nil, err
		}
		if _, ok := h.cache.Topic(res.ResourceName); !ok {
			return nil, &messageError{kerr.UnknownTopicOrPartition, "The topic '" + res.ResourceName + "' does not exist."}
		}
		overrides, err := h.zk.GetEntityConfigs(zkmeta.ConfigTypeTopic, res.ResourceName)
		if err != nil {
			return nil, fmt.Errorf("topic configs of %s: %w", res.ResourceName, err)
		}
		return h.liveProps().DescribeTopic(overrides), nil
	case kmsg.ConfigResourceTypeBroker:
		if res.ResourceName == "" {
			return h.liveProps().DescribeDefault(), nil
		}
		id, err := brokerIDOf(res.ResourceName)
		if err != nil {
			return nil, err
		}
		if id != h.cfg.BrokerID {
			return nil, &messageError{kerr.InvalidRequest, fmt.Sprintf(
				"Unexpected broker id, expected %d or empty string, but received %s", h.cfg.BrokerID, res.ResourceName)}
		}
		return h.liveProps().Describe(), nil
	case kmsg.ConfigResourceTypeBrokerLogger:
		if h.cfg.Loggers == nil {
			break
		}
		if res.ResourceName == "" {
			return nil, &messageError{kerr.InvalidRequest, "Broker id must not be empty"}
		}
		id, err := brokerIDOf(res.ResourceName)
		if err != nil {
			return nil, err
		}
		if id != h.cfg.BrokerID {
			return nil, &messageError{kerr.InvalidRequest, fmt.Sprintf(
				"Unexpected broker id, expected %d but received %s", h.cfg.BrokerID, res.ResourceName)}
		}
		return describeLoggers(h.cfg.Loggers), nil
	}
	return nil, &messageError{kerr.InvalidRequest, fmt.Sprintf("Unsupported resource type: %s", res.ResourceType)}
}

// brokerIDOf is ConfigHelper.resourceNameToBrokerId: a broker or broker logger resource's name as a broker id.
func brokerIDOf(name string) (int32, error) {
	id, err := strconv.ParseInt(name, 10, 32)
	if err != nil {
		return 0, &messageError{kerr.InvalidRequest, "Broker id must be an integer, but it is: " + name}
	}
	return int32(id), nil
}

// liveProps is the broker config with the dynamic broker configs applied.
func (h *Handlers) liveProps() *serverprops.Config {
	if h.cfg.DynConfig != nil {
		return h.cfg.DynConfig.Current()
	}
	return h.props
}

// alterConfigs is ZkAdminManager.alterConfigs: each resource's config set is replaced by the given one.
func (h *Handlers) alterConfigs(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.AlterConfigsRequest)
	if !ok {
		return nil, fmt.Errorf("alterConfigs: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	resp.Version = req.Version
	// handleAlterConfigsRequest: ALTER_CONFIGS on each resource (a broker logger is refused as it is); the refused
	// ones come last, without a message.
	var refused []kmsg.AlterConfigsResponseResource
	for _, res := range req.Resources {
		rr := kmsg.NewAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
		e := h.configResourceDenied(rc, res.ResourceType, res.ResourceName, kmsg.ACLOperationAlterConfigs, false)
		if e != nil {
			rr.ErrorCode = e.Code
			refused = append(refused, rr)
			continue
		}
		props := map[string]string{}
		var nulls []string
		for _, c := range res.Configs {
			if c.Value == nil {
				nulls = append(nulls, c.Name)
				continue
			}
			props[c.Name] = *c.Value
		}
		var err error
		if len(nulls) > 0 {
			err = &messageError{kerr.InvalidRequest, "Null value not supported for : " + strings.Join(nulls, ",")}
		} else {
			err = h.alterResource(res.ResourceType, res.ResourceName, props, req.ValidateOnly)
		}
		rr.ErrorCode, rr.ErrorMessage = alterError(err)
		resp.Resources = append(resp.Resources, rr)
	}
	resp.Resources = append(resp.Resources, refused...)
	return resp, nil
}

// incrementalAlterConfigs is ZkAdminManager.incrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT applied
// to the stored config set, then validated and written as alterConfigs does.
func (h *Handlers) incrementalAlterConfigs(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.IncrementalAlterConfigsRequest)
	if !ok {
		return nil, fmt.Errorf("incrementalAlterConfigs: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	resp.Version = req.Version
	// handleIncrementalAlterConfigsRequest: ALTER_CONFIGS on each resource; the refused ones come last.
	var refused []kmsg.IncrementalAlterConfigsResponseResource
	for _, res := range req.Resources {
		rr := kmsg.NewIncrementalAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
		e := h.configResourceDenied(rc, res.ResourceType, res.ResourceName, kmsg.ACLOperationAlterConfigs, true)
		if e != nil {
			rr.ErrorCode = e.Code
			refused = append(refused, rr)
			continue
		}
		ops := make([]dynconfig.Op, 0, len(res.Configs))
		for _, c := range res.Configs {
			ops = append(ops, dynconfig.Op{Name: c.Name, Op: dynconfig.OpType(c.Op), Value: c.Value})
		}
		err := h.incrementalAlterResource(res.ResourceType, res.ResourceName, ops, req.ValidateOnly)
		rr.ErrorCode, rr.ErrorMessage = alterError(err)
		resp.Resources = append(resp.Resources, rr)
	}
	resp.Resources = append(resp.Resources, refused...)
	return resp, nil
}

func alterError(err error) (int16, *string) {
	var de *dynconfig.Error
	if errors.As(err, &de) {
		return de.Code, &de.Message
	}
	return apiError(err)
}

func unsupportedAlter(t kmsg.ConfigResourceType) error {
	return &messageError{kerr.InvalidRequest, fmt.Sprintf(
		"AlterConfigs is only supported for topics and brokers, but resource type is %s", t)}
}

func (h *Handlers) alterResource(t kmsg.ConfigResourceType, name string, props map[string]string, validateOnly bool) error {
	switch t {
	case kmsg.ConfigResourceTypeTopic:
		return h.alterTopicConfigs(name, props, validateOnly)
	case kmsg.ConfigResourceTypeBroker:
		return h.alterBrokerConfigs(name, props, validateOnly)
	}
	// BROKER_LOGGER is only alterable incrementally in Kafka; see incrementalAlterResource.
	return unsupportedAlter(t)
}

func (h *Handlers) incrementalAlterResource(t kmsg.ConfigResourceType, name string, ops []dynconfig.Op, validateOnly bool) error {
	if err := dynconfig.CheckOps(ops); err != nil {
		return err
	}
	switch t {
	case kmsg.ConfigResourceTypeTopic:
		props, err := h.zk.GetEntityConfigs(zkmeta.ConfigTypeTopic, name)
		if err != nil {
			return fmt.Errorf("topic configs of %s: %w", name, err)
		}
		if err := dynconfig.ApplyOps(props, ops, dynconfig.TopicListKind); err != nil {
			return err
		}
		return h.alterTopicConfigs(name, props, validateOnly)
	case kmsg.ConfigResourceTypeBroker:
		entity, err := h.brokerEntity(name)
		if err != nil {
			return err
		}
		props, err := h.zk.GetEntityConfigs(zkmeta.ConfigTypeBroker, entity)
		if err != nil {
			return fmt.Errorf("broker configs of %s: %w", entity, err)
		}
		if h.cfg.DynConfig != nil {
			props = h.cfg.DynConfig.FromPersistent(props) // passwords decoded, to be encoded again when written
		}
		if err := dynconfig.ApplyOps(props, ops, dynconfig.BrokerListKind(h.liveProps())); err != nil {
			return err
		}
		return h.alterBrokerConfigs(name, props, validateOnly)
	case kmsg.ConfigResourceTypeBrokerLogger:
		if h.cfg.Loggers == nil {
			break
		}
		// An empty name is this broker here (ZkAdminManager.getBrokerId), though DescribeConfigs refuses it.
		if _, err := h.brokerEntity(name); err != nil {
			return err
		}
		return h.alterLoggers(name, ops, validateOnly)
	}
	return unsupportedAlter(t)
}

// alterTopicConfigs is ZkAdminManager.alterTopicConfigs with AdminZkClient.changeTopicConfig: validate the full
// override set, write /config/topics/<t>, then notify every broker through /config/changes.
func (h *Handlers) alterTopicConfigs(topic string, props map[string]string, validateOnly bool) error {
	if _, ok := h.cache.Topic(topic); !ok {
		return &messageError{kerr.UnknownTopicOrPartition, "The topic '" + topic + "' does not exist."}
	}
	if err := zkmeta.ValidateTopicName(topic); err != nil {
		return err
	}
	exists, err := h.zk.PathExists(zkmeta.TopicPath(topic))
	if err != nil {
		return fmt.Errorf("topic %s: %w", topic, err)
	}
	if !exists {
		return &messageError{kerr.UnknownTopicOrPartition, "Topic '" + topic + "' does not exist."}
	}
	if err := dynconfig.ValidateTopic(topic, props); err != nil {
		return err
	}
	if validateOnly {
		return nil
	}
	h.logger.Info("updating topic config", "topic", topic, "keys", slices.Sorted(maps.Keys(props)))
	return h.writeEntityConfig(zkmeta.ConfigTypeTopic, topic, props)
}

// brokerEntity is ZkAdminManager.getBrokerId as the /config/brokers child: "<default>" for the empty name.
func (h *Handlers) brokerEntity(name string) (string, error) {
	if name == "" {
		return dynconfig.DefaultEntity, nil
	}
	id, err := brokerIDOf(name)
	if err != nil {
		return "", err
	}
	if id != h.cfg.BrokerID {
		return "", &messageError{kerr.InvalidRequest, fmt.Sprintf(
			"Unexpected broker id, expected %d, but received %s", h.cfg.BrokerID, name)}
	}
	return strconv.Itoa(int(id)), nil
}

// alterBrokerConfigs is ZkAdminManager.alterBrokerConfigs: validate as DynamicBrokerConfig does against the other
// level's current contents, then write /config/brokers/<id|<default>> and notify.
func (h *Handlers) alterBrokerConfigs(name string, props map[string]string, validateOnly bool) error {
	entity, err := h.brokerEntity(name)
	if err != nil {
		return err
	}
	var levels dynconfig.BrokerLevels
	if h.cfg.DynConfig != nil {
		if levels, err = h.cfg.DynConfig.BrokerLevels(); err != nil {
			return err
		}
	}
	dyn := h.cfg.DynConfig
	if dyn != nil {
		err = dyn.ValidateBroker(levels, props, name)
	} else {
		err = dynconfig.ValidateBroker(h.liveProps(), levels, props, name, nil)
	}
	if err != nil {
		return err
	}
	if validateOnly {
		return nil
	}
	perBroker := name != ""
	res := dynconfig.Resource{Type: "BROKER", Name: name}
	persist := props
	if dyn != nil {
		if perBroker {
			if err := dyn.ReloadFiles(levels, props); err != nil {
				return dynconfig.ConfigException(res, err.Error())
			}
		}
		if persist, err = dyn.ToPersistent(props, perBroker); err != nil {
			return dynconfig.ConfigException(res, err.Error())
		}
	}
	h.logger.Info("updating broker config", "entity", entity, "keys", slices.Sorted(maps.Keys(props)))
	return h.writeEntityConfig(zkmeta.ConfigTypeBroker, entity, persist)
}

// writeEntityConfig is AdminZkClient.changeEntityConfig: the entity znode, then the change notification.
func (h *Handlers) writeEntityConfig(entityType, name string, props map[string]string) error {
	if err := h.zk.SetOrCreateEntityConfigs(entityType, name, props); err != nil {
		return fmt.Errorf("write %s config of %s: %w", entityType, name, err)
	}
	if _, err := h.zk.CreateConfigChangeNotification(entityType + "/" + name); err != nil {
		return fmt.Errorf("config change notification for %s/%s: %w", entityType, name, err)
	}
	return nil
}
