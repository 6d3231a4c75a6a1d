// Command kafka-topics is kafka-topics.sh of Kafka 2.8 (TopicCommand): create, list, describe, alter and delete
// topics either by writing ZooKeeper directly (--zookeeper, as AdminZkClient does) or through a broker
// (--bootstrap-server, with the Admin API). Output, messages and exit codes follow TopicCommand 2.8.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/zkafka/zkafka/compat/javastr"

	"github.com/zkafka/zkafka/compat/javahash"
	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/assign"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// kafkaVersion is what --version prints (VersionInfo.getVersionString).
const kafkaVersion = "2.8.2 (Commit:zkafka)"

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// usageError is CommandLineUtils.printUsageAndDie: message and option help on stderr, exit 1.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// uncaughtError is an exception TopicCommand lets escape main: the JVM prints it on stderr and exits 1, with the
// exception that caused it (a "Caused by:" line of the stack trace).
type uncaughtError struct {
	class, msg string
	cause      *uncaughtError
}

func (e *uncaughtError) Error() string { return e.msg }

// commandError is an exception whose getMessage TopicCommand prints after "Error while executing topic command : ".
type commandError struct{ msg string }

func (e *commandError) Error() string { return e.msg }

func cmdErr(format string, args ...any) error { return &commandError{fmt.Sprintf(format, args...)} }

// run executes one kafka-topics invocation and returns its exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if err == nil {
		err = checkArgs(o)
	}
	if err != nil {
		return reportFatal(err, stdout, stderr)
	}
	if o.has("version") {
		fmt.Fprintln(stdout, kafkaVersion)
		return 0
	}
	// The JVM's system properties, as kafka-topics.sh passes them in KAFKA_OPTS: the JAAS file and the ZooKeeper
	// client's TLS settings.
	jvm := serverprops.JVMSystemProperties(os.Getenv("KAFKA_OPTS"))
	var svc topicService
	if zkc, ok := o.value("zookeeper"); ok {
		svc, err = newZkService(zkc, o, jvm, stdout, stderr)
	} else {
		bs, _ := o.value("bootstrap-server")
		svc, err = newAdminService(bs, o, jvm, stdout)
	}
	if err != nil {
		return reportFatal(err, stdout, stderr)
	}
	defer svc.close()
	switch {
	case o.has("create"):
		err = createTopic(ctx, svc, o, stdout)
	case o.has("alter"):
		err = svc.alterTopic(ctx)
	case o.has("list"):
		err = svc.listTopics(ctx)
	case o.has("describe"):
		err = svc.describeTopic(ctx)
	case o.has("delete"):
		err = svc.deleteTopic(ctx)
	}
	if err != nil {
		fmt.Fprintln(stdout, "Error while executing topic command : "+securityError(err).Error())
		return 1
	}
	return 0
}

func reportFatal(err error, stdout, stderr io.Writer) int {
	var ue *usageError
	var pe *parseError
	var ce *uncaughtError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, ue.msg)
		printHelp(stderr)
	case errors.As(err, &pe):
		fmt.Fprintf(stderr, "Exception in thread \"main\" %s: %s\n", pe.class, pe.msg)
	case errors.As(err, &ce):
		fmt.Fprintf(stderr, "Exception in thread \"main\" %s: %s\n", ce.class, ce.msg)
		for c := ce.cause; c != nil; c = c.cause {
			fmt.Fprintf(stderr, "Caused by: %s: %s\n", c.class, c.msg)
		}
	default:
		fmt.Fprintln(stdout, "Error while executing topic command : "+err.Error())
	}
	return 1
}

// topicService is TopicCommand.TopicService.
type topicService interface {
	createTopic(ctx context.Context, tp *commandTopicPartition) error
	listTopics(ctx context.Context) error
	alterTopic(ctx context.Context) error
	describeTopic(ctx context.Context) error
	deleteTopic(ctx context.Context) error
	close()
}

func createTopic(ctx context.Context, svc topicService, o *options, stdout io.Writer) error {
	tp, err := newCommandTopicPartition(o, stdout)
	if err != nil {
		return err
	}
	if strings.ContainsAny(tp.name, "._") {
		fmt.Fprintln(stdout, "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could "+
			"collide. To avoid issues it is best to use either, but not both.")
	}
	return svc.createTopic(ctx, tp)
}

var (
	topicLevel   = []string{"alter", "create", "describe", "list", "delete"}
	reportOpts   = []string{"under-replicated-partitions", "under-min-isr-partitions", "at-min-isr-partitions", "unavailable-partitions"}
	actionsOrder = []string{"create", "list", "alter", "describe", "delete"}
)

func without(set []string, drop ...string) []string {
	var out []string
	for _, s := range set {
		keep := true
		for _, d := range drop {
			if s == d {
				keep = false
			}
		}
		if keep {
			out = append(out, s)
		}
	}
	return out
}

func checkRequired(o *options, names ...string) error {
	for _, n := range names {
		if !o.has(n) {
			return &usageError{fmt.Sprintf("Missing required argument \"%s\"", spec(n))}
		}
	}
	return nil
}

func checkInvalid(o *options, used string, invalid ...string) error {
	if !o.has(used) {
		return nil
	}
	for _, n := range invalid {
		if o.has(n) {
			return &usageError{fmt.Sprintf("Option \"%s\" can't be used with option \"%s\"", spec(used), spec(n))}
		}
	}
	return nil
}

// checkArgs is TopicCommandOptions.checkArgs, in its order.
func checkArgs(o *options) error {
	if len(o.args) == 0 {
		return &usageError{"Create, delete, describe, or change a topic."}
	}
	if o.has("help") {
		return &usageError{"This tool helps to create, delete, describe, or change a topic."}
	}
	if o.has("version") {
		return nil
	}
	n := 0
	for _, a := range actionsOrder {
		if o.has(a) {
			n++
		}
	}
	if n != 1 {
		return &usageError{"Command must include exactly one action: --list, --describe, --create, --alter or --delete"}
	}
	if o.has("bootstrap-server") == o.has("zookeeper") {
		return &uncaughtError{class: "java.lang.IllegalArgumentException", msg: "Only one of --bootstrap-server or --zookeeper must be specified"}
	}
	checks := []func() error{
		func() error {
			if o.has("describe") && o.has("if-exists") {
				return checkRequired(o, "topic")
			}
			return nil
		},
		func() error {
			if !o.has("list") && !o.has("describe") {
				return checkRequired(o, "topic")
			}
			return nil
		},
		func() error {
			if o.has("create") && !o.has("replica-assignment") && o.has("zookeeper") {
				return checkRequired(o, "partitions", "replication-factor")
			}
			return nil
		},
		func() error {
			if o.has("bootstrap-server") && o.has("alter") {
				if o.has("config") {
					return &usageError{"Option combination \"[bootstrap-server],[config]\" can't be used with option \"[alter]\"" +
						" (the kafka-configs CLI supports altering topic configs with a --bootstrap-server option)"}
				}
				return checkRequired(o, "partitions")
			}
			return nil
		},
		func() error { return checkInvalid(o, "config", without(topicLevel, "alter", "create")...) },
		func() error {
			return checkInvalid(o, "delete-config", append(without(topicLevel, "alter"), "bootstrap-server")...)
		},
		func() error { return checkInvalid(o, "partitions", without(topicLevel, "alter", "create")...) },
		func() error { return checkInvalid(o, "replication-factor", without(topicLevel, "create")...) },
		func() error { return checkInvalid(o, "replica-assignment", without(topicLevel, "create", "alter")...) },
		func() error {
			if o.has("create") {
				return checkInvalid(o, "replica-assignment", "partitions", "replication-factor")
			}
			return nil
		},
		func() error { return checkReport(o, "under-replicated-partitions", false) },
		func() error { return checkReport(o, "under-min-isr-partitions", true) },
		func() error { return checkReport(o, "at-min-isr-partitions", true) },
		func() error { return checkReport(o, "unavailable-partitions", false) },
		func() error {
			return checkInvalid(o, "topics-with-overrides", append(without(topicLevel, "describe"), reportOpts...)...)
		},
		func() error {
			return checkInvalid(o, "if-exists", without(topicLevel, "alter", "delete", "describe")...)
		},
		func() error { return checkInvalid(o, "if-not-exists", without(topicLevel, "create")...) },
		func() error { return checkInvalid(o, "exclude-internal", without(topicLevel, "list", "describe")...) },
	}
	for _, c := range checks {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
}

func checkReport(o *options, name string, notWithZk bool) error {
	invalid := append(without(topicLevel, "describe"), without(reportOpts, name)...)
	invalid = append(invalid, "topics-with-overrides")
	if notWithZk {
		invalid = append(invalid, "zookeeper")
	}
	return checkInvalid(o, name, invalid...)
}

// commandTopicPartition is TopicCommand.CommandTopicPartition: the parsed topic arguments.
type commandTopicPartition struct {
	name              string
	partitions        *int64
	replicationFactor *int64
	replicaAssignment map[int32][]int32 // nil: none
	configsToAdd      map[string]string
	configsToDelete   []string
	disableRackAware  bool
	ifNotExists       bool
}

func newCommandTopicPartition(o *options, stdout io.Writer) (*commandTopicPartition, error) {
	tp := &commandTopicPartition{disableRackAware: o.has("disable-rack-aware"), ifNotExists: o.has("if-not-exists")}
	tp.name, _ = o.value("topic")
	if v, ok := o.ints["partitions"]; ok {
		tp.partitions = &v
	}
	if v, ok := o.ints["replication-factor"]; ok {
		tp.replicationFactor = &v
	}
	if s, ok := o.value("replica-assignment"); ok && s != "" {
		ra, err := assign.ParseReplicaAssignment(s)
		if err != nil {
			return nil, err
		}
		tp.replicaAssignment = ra
	}
	var err error
	if tp.configsToAdd, err = parseConfigsToBeAdded(o.values["config"], stdout); err != nil {
		return nil, err
	}
	if tp.configsToDelete, err = parseConfigsToBeDeleted(o.values["delete-config"]); err != nil {
		return nil, err
	}
	return tp, nil
}

// javaSpace is Java regex \s.
var configSplit = regexp.MustCompile(`[ \t\n\x0B\f\r]*=[ \t\n\x0B\f\r]*`)

// parseConfigsToBeAdded is TopicCommand.parseTopicConfigsToBeAdded: "k=v" (split as Java's String.split, so a
// missing value is an error), LogConfig.validate, and the message.format.version warning.
func parseConfigsToBeAdded(raw []string, stdout io.Writer) (map[string]string, error) {
	props := map[string]string{}
	var pairs [][]string
	for _, c := range raw {
		parts := configSplit.Split(c, -1)
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
		pairs = append(pairs, parts)
	}
	for _, p := range pairs {
		if len(p) != 2 {
			return nil, cmdErr("requirement failed: Invalid topic config: all configs to be added must be in the format \"key=val\".")
		}
	}
	for _, p := range pairs {
		props[javastr.Trim(p[0])] = javastr.Trim(p[1])
	}
	if err := serverprops.ValidateTopicConfig(props); err != nil {
		return nil, cmdErr("%s", err.Error())
	}
	if v, ok := props[serverprops.TopicMessageFormatVersion]; ok {
		fmt.Fprintf(stdout, "WARNING: The configuration %s=%s is specified. This configuration will be ignored if the version is newer than the inter.broker.protocol.version specified in the broker.\n",
			serverprops.TopicMessageFormatVersion, v)
	}
	return props, nil
}

// parseConfigsToBeDeleted is TopicCommand.parseTopicConfigsToBeDeleted (LogConfig.validateNames).
func parseConfigsToBeDeleted(raw []string) ([]string, error) {
	known := map[string]bool{}
	for _, n := range serverprops.TopicConfigNames() {
		known[n] = true
	}
	out := make([]string, 0, len(raw))
	for _, c := range raw {
		c = javastr.Trim(c)
		if !known[c] {
			return nil, cmdErr("Unknown topic config name: %s", c)
		}
		out = append(out, c)
	}
	return out, nil
}

// isInternal is Topic.isInternal.
func isInternal(topic string) bool {
	return topic == "__consumer_offsets" || topic == "__transaction_state"
}

var (
	leadingQuotes  = regexp.MustCompile(`^["']+`)
	trailingQuotes = regexp.MustCompile(`["']+$`)
)

// includeList is kafka.utils.IncludeList: a whole-name regex, with ',' as '|', spaces and outer quotes removed.
// Go's RE2 stands in for java.util.regex (no back-references or look-arounds).
func includeList(raw string) (*regexp.Regexp, error) {
	r := strings.ReplaceAll(strings.ReplaceAll(javastr.Trim(raw), ",", "|"), " ", "")
	r = trailingQuotes.ReplaceAllString(leadingQuotes.ReplaceAllString(r, ""), "")
	re, err := regexp.Compile(`^(?:` + r + `)$`)
	if err != nil {
		return nil, &commandError{r + " is an invalid regex."}
	}
	return re, nil
}

// doGetTopics is TopicCommand.doGetTopics over sorted names.
func doGetTopics(all []string, o *options) ([]string, error) {
	sort.Strings(all)
	exclude := o.has("exclude-internal")
	var re *regexp.Regexp
	if t, ok := o.value("topic"); ok {
		var err error
		if re, err = includeList(t); err != nil {
			return nil, err
		}
	}
	out := []string{}
	for _, t := range all {
		if re != nil && !re.MatchString(t) {
			continue
		}
		if isInternal(t) && exclude {
			continue
		}
		out = append(out, t)
	}
	return out, nil
}

// ensureTopicExists is TopicCommand.ensureTopicExists.
func ensureTopicExists(found []string, o *options) error {
	t, ok := o.value("topic")
	if ok && !o.has("if-exists") && len(found) == 0 {
		return &commandError{fmt.Sprintf("Topic '%s' does not exist as expected", t)}
	}
	return nil
}

// configString renders "Configs: k=v,..." as TopicDescription does: the entries go through
// org.apache.kafka.clients.admin.Config, whose HashMap sets the order. keys are in insertion order.
func configString(keys []string, vals map[string]string) string {
	parts := make([]string, 0, len(keys))
	for _, k := range javahash.HashMapOrder(keys) {
		parts = append(parts, k+"="+vals[k])
	}
	return strings.Join(parts, ",")
}

func joinIDs(ids []int32) string { return assign.JoinIDs(ids, ",") }

// topicDescription is TopicCommand.TopicDescription.
type topicDescription struct {
	topic             string
	id                zkmeta.Uuid
	numPartitions     int
	replicationFactor int
	configs           string
	markedForDeletion bool
}

func (d topicDescription) print(w io.Writer) {
	var b strings.Builder
	b.WriteString("Topic: " + d.topic)
	if !d.id.IsZero() {
		b.WriteString("\tTopicId: " + d.id.String())
	}
	fmt.Fprintf(&b, "\tPartitionCount: %d\tReplicationFactor: %d\tConfigs: %s", d.numPartitions, d.replicationFactor, d.configs)
	if d.markedForDeletion {
		b.WriteString("\tMarkedForDeletion: true")
	}
	fmt.Fprintln(w, b.String())
}

// partitionDescription is TopicCommand.PartitionDescription.
type partitionDescription struct {
	topic             string
	partition         int32
	leader            int32 // -1: none
	replicas, isr     []int32
	minIsr            *int // from the topic config (AdminClient mode only)
	markedForDeletion bool
	adding, removing  []int32
	reassigning       bool
	replicationFactor int
}

func (p partitionDescription) hasLeader() bool { return p.leader >= 0 }

func (p partitionDescription) isUnderReplicated() bool { return p.replicationFactor-len(p.isr) > 0 }

func (p partitionDescription) isUnderMinIsr() bool {
	return !p.hasLeader() || (p.minIsr != nil && len(p.isr) < *p.minIsr)
}

func (p partitionDescription) isAtMinIsr() bool { return p.minIsr != nil && len(p.isr) == *p.minIsr }

func (p partitionDescription) unavailable(live map[int32]bool) bool {
	return !p.hasLeader() || !live[p.leader]
}

func (p partitionDescription) print(w io.Writer) {
	var b strings.Builder
	fmt.Fprintf(&b, "\tTopic: %s\tPartition: %d\tLeader: ", p.topic, p.partition)
	if p.hasLeader() {
		fmt.Fprintf(&b, "%d", p.leader)
	} else {
		b.WriteString("none")
	}
	b.WriteString("\tReplicas: " + joinIDs(p.replicas) + "\tIsr: " + joinIDs(p.isr))
	if p.reassigning {
		b.WriteString("\tAdding Replicas: " + joinIDs(p.adding) + "\tRemoving Replicas: " + joinIDs(p.removing))
	}
	if p.markedForDeletion {
		b.WriteString("\tMarkedForDeletion: true")
	}
	fmt.Fprintln(w, b.String())
}

// describeOptions is TopicCommand.DescribeOptions.
type describeOptions struct {
	o                  *options
	live               map[int32]bool
	describeConfigs    bool
	describePartitions bool
}

func newDescribeOptions(o *options, live map[int32]bool) describeOptions {
	return describeOptions{
		o: o, live: live,
		describeConfigs: !o.has("unavailable-partitions") && !o.has("under-replicated-partitions") &&
			!o.has("under-min-isr-partitions") && !o.has("at-min-isr-partitions"),
		describePartitions: !o.has("topics-with-overrides"),
	}
}

func (d describeOptions) maybePrint(w io.Writer, p partitionDescription) {
	if d.describeConfigs ||
		(d.o.has("under-replicated-partitions") && p.isUnderReplicated()) ||
		(d.o.has("unavailable-partitions") && p.unavailable(d.live)) ||
		(d.o.has("under-min-isr-partitions") && p.isUnderMinIsr()) ||
		(d.o.has("at-min-isr-partitions") && p.isAtMinIsr()) {
		p.print(w)
	}
}
