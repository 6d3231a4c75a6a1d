package handler

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
	"github.com/zkafka/zkafka/kwire"
)

// describeConfigs is ConfigHelper.describeConfigs for topics (overrides from /config/topics/<t> over this broker's
// defaults) and brokers (this broker's own configs, or the cluster defaults for an empty name).
func (h *Handlers) describeConfigs(_ context.Context, _ *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.DescribeConfigsRequest)
	if !ok {
		return nil, fmt.Errorf("describeConfigs: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	resp.Version = req.Version
	for _, res := range req.Resources {
		rr := kmsg.NewDescribeConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
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
	return resp, nil
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
		return h.props.DescribeTopic(overrides), nil
	case kmsg.ConfigResourceTypeBroker:
		if res.ResourceName == "" {
			return h.props.DescribeDefault(), nil
		}
		id, err := strconv.ParseInt(res.ResourceName, 10, 32)
		if err != nil {
			return nil, &messageError{kerr.InvalidRequest, "Broker id must be an integer, but it is: " + res.ResourceName}
		}
		if int32(id) != h.cfg.BrokerID {
			return nil, &messageError{kerr.InvalidRequest, fmt.Sprintf(
				"Unexpected broker id, expected %d or empty string, but received %s", h.cfg.BrokerID, res.ResourceName)}
		}
		return h.props.Describe(), nil
	default:
		// TODO(broker loggers): BROKER_LOGGER resources.
		return nil, &messageError{kerr.InvalidRequest, fmt.Sprintf("Unsupported resource type: %s", res.ResourceType)}
	}
}
