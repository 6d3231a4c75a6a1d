package handler

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/zkafka/zkafka/compat/serverprops"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

func TestAPIError(t *testing.T) {
	cases := []struct {
		err  error
		code int16
		msg  string
	}{
		{nil, 0, ""},
		{kerr.NotLeaderForPartition, 6, ""},
		{fmt.Errorf("append: %w", klog.ErrInvalidRecord), kerr.InvalidRecord.Code, "append: invalid record"},
		{zkmeta.ValidateTopicName("a b"), kerr.InvalidTopicException.Code,
			`Topic name "a b" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`},
		{fmt.Errorf("%w: Topic 'x' already exists.", zkmeta.ErrTopicExists), kerr.TopicAlreadyExists.Code, "Topic 'x' already exists."},
		{serverprops.ValidateTopicConfig(map[string]string{"nope": "1"}), kerr.InvalidConfig.Code, "Unknown topic config name: nope"},
		{&messageError{kerr.InvalidRequest, "why"}, kerr.InvalidRequest.Code, "why"},
		{fmt.Errorf("boom"), kerr.UnknownServerError.Code, "boom"},
	}
	for _, c := range cases {
		code, msg := apiError(c.err)
		got := ""
		if msg != nil {
			got = *msg
		}
		if code != c.code || (c.msg != "" && got != c.msg) {
			t.Errorf("%v: got %d %q, want %d %q", c.err, code, got, c.code, c.msg)
		}
	}
}
