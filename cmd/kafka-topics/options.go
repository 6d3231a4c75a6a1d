package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// optSpec is one command-line option of TopicCommand 2.8 (a jopt-simple OptionSpec).
type optSpec struct {
	name    string
	hasArg  bool
	isInt   bool
	argDesc string
	help    string
}

func (o *optSpec) String() string { return "[" + o.name + "]" } // jopt-simple's OptionSpec.toString

var specList = []*optSpec{
	{name: "alter", help: "Alter the number of partitions, replica assignment, and/or configuration for the topic."},
	{name: "at-min-isr-partitions", help: "if set when describing topics, only show partitions whose isr count is equal to the configured minimum. Not supported with the --zookeeper option."},
	{name: "bootstrap-server", hasArg: true, argDesc: "server to connect to", help: "REQUIRED: The Kafka server to connect to. In case of providing this, a direct Zookeeper connection won't be required."},
	{name: "command-config", hasArg: true, argDesc: "command config property file", help: "Property file containing configs to be passed to Admin Client. This is used only with --bootstrap-server option for describing and altering broker configs."},
	{name: "config", hasArg: true, argDesc: "name=value", help: "A topic configuration override for the topic being created or altered. It is supported only in combination with --create if --bootstrap-server option is used (the kafka-configs CLI supports altering topic configs with a --bootstrap-server option)."},
	{name: "create", help: "Create a new topic."},
	{name: "delete", help: "Delete a topic"},
	{name: "delete-config", hasArg: true, argDesc: "name", help: "A topic configuration override to be removed for an existing topic (see the list of configurations under the --config option). Not supported with the --bootstrap-server option."},
	{name: "describe", help: "List details for the given topics."},
	{name: "disable-rack-aware", help: "Disable rack aware replica assignment"},
	{name: "exclude-internal", help: "exclude internal topics when running list or describe command. The internal topics will be listed by default"},
	{name: "force", help: "Suppress console prompts"},
	{name: "help", help: "Print usage information."},
	{name: "if-exists", help: "if set when altering or deleting or describing topics, the action will only execute if the topic exists."},
	{name: "if-not-exists", help: "if set when creating topics, the action will only execute if the topic does not already exist."},
	{name: "list", help: "List all available topics."},
	{name: "partitions", hasArg: true, isInt: true, argDesc: "Integer: # of partitions", help: "The number of partitions for the topic being created or altered (WARNING: If partitions are increased for a topic that has a key, the partition logic or ordering of the messages will be affected). If not supplied for create, defaults to the cluster default."},
	{name: "replica-assignment", hasArg: true, argDesc: "broker_id_for_part1_replica1 : broker_id_for_part1_replica2 , broker_id_for_part2_replica1 : broker_id_for_part2_replica2 , ...", help: "A list of manual partition-to-broker assignments for the topic being created or altered."},
	{name: "replication-factor", hasArg: true, isInt: true, argDesc: "Integer: replication factor", help: "The replication factor for each partition in the topic being created. If not supplied, defaults to the cluster default."},
	{name: "topic", hasArg: true, argDesc: "topic", help: "The topic to create, alter, describe or delete. It also accepts a regular expression, except for --create option. Put topic name in double quotes and use the '\\' prefix to escape regular expression symbols; e.g. \"test\\.topic\"."},
	{name: "topics-with-overrides", help: "if set when describing topics, only show topics that have overridden configs"},
	{name: "unavailable-partitions", help: "if set when describing topics, only show partitions whose leader is not available"},
	{name: "under-min-isr-partitions", help: "if set when describing topics, only show partitions whose isr count is less than the configured minimum. Not supported with the --zookeeper option."},
	{name: "under-replicated-partitions", help: "if set when describing topics, only show under replicated partitions"},
	{name: "version", help: "Display Kafka version."},
	{name: "zookeeper", hasArg: true, argDesc: "hosts", help: "DEPRECATED, The connection string for the zookeeper connection in the form host:port. Multiple hosts can be given to allow fail-over."},
}

func spec(name string) *optSpec {
	for _, s := range specList {
		if s.name == name {
			return s
		}
	}
	panic("unknown option " + name)
}

// parseError is a jopt-simple OptionException, which TopicCommand does not catch: the JVM prints it and exits 1.
type parseError struct{ class, msg string }

func (e *parseError) Error() string { return e.msg }

// options is a parsed command line (jopt-simple's OptionSet).
type options struct {
	args   []string
	values map[string][]string
	ints   map[string]int64
}

func (o *options) has(name string) bool { _, ok := o.values[name]; return ok }

func (o *options) value(name string) (string, bool) {
	v, ok := o.values[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

func lookupSpec(name string) (*optSpec, error) {
	var cands []*optSpec
	for _, s := range specList {
		if s.name == name {
			return s, nil
		}
		if strings.HasPrefix(s.name, name) {
			cands = append(cands, s)
		}
	}
	if len(cands) == 1 { // jopt-simple accepts unique abbreviations
		return cands[0], nil
	}
	return nil, &parseError{"joptsimple.UnrecognizedOptionException", name + " is not a recognized option"}
}

// parseArgs parses like jopt-simple: --name, --name value, --name=value, unique prefixes; repeated options keep
// every value; other words are non-option arguments (ignored by TopicCommand); "--" ends the options.
func parseArgs(args []string) (*options, error) {
	o := &options{args: args, values: map[string][]string{}, ints: map[string]int64{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			continue
		}
		name := strings.TrimLeft(a, "-")
		val, hasVal := "", false
		if j := strings.IndexByte(name, '='); j >= 0 {
			name, val, hasVal = name[:j], name[j+1:], true
		}
		s, err := lookupSpec(name)
		if err != nil {
			return nil, err
		}
		if !s.hasArg {
			if hasVal {
				return nil, &parseError{"joptsimple.UnrecognizedOptionException", name + "=" + val + " is not a recognized option"}
			}
			o.values[s.name] = append(o.values[s.name], "")
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return nil, &parseError{"joptsimple.OptionMissingRequiredArgumentException", "Option " + s.name + " requires an argument"}
			}
			i++
			val = args[i]
		}
		if s.isInt {
			n, err := strconv.ParseInt(val, 10, 32)
			if err != nil {
				return nil, &parseError{"joptsimple.OptionArgumentConversionException", fmt.Sprintf("Cannot parse argument '%s' of option %s", val, s.name)}
			}
			if _, seen := o.ints[s.name]; !seen {
				o.ints[s.name] = n
			}
		}
		o.values[s.name] = append(o.values[s.name], val)
	}
	return o, nil
}

// printHelp writes jopt-simple's option table.
func printHelp(w io.Writer) {
	type row struct{ opt, desc string }
	rows := make([]row, 0, len(specList))
	width := len("Option")
	for _, s := range specList {
		opt := "--" + s.name
		if s.hasArg {
			opt += " <" + s.argDesc + ">"
		}
		rows = append(rows, row{opt, s.help})
		width = max(width, len(opt))
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].opt < rows[j].opt })
	width = min(width, 40) // longer option columns put the description on the next line, as jopt-simple wraps
	fmt.Fprintf(w, "%-*s  %s\n", width, "Option", "Description")
	fmt.Fprintf(w, "%-*s  %s\n", width, "------", "-----------")
	for _, r := range rows {
		if len(r.opt) > width {
			fmt.Fprintf(w, "%s\n%-*s  %s\n", r.opt, width, "", r.desc)
			continue
		}
		fmt.Fprintf(w, "%-*s  %s\n", width, r.opt, r.desc)
	}
}
