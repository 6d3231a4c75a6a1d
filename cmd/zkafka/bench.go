package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/zkafka/zkafka/cmd/zkafka/internal/kbench"
	"github.com/zkafka/zkafka/cmd/zkafka/internal/zkbench"
)

func benchCommand(log *slog.Logger) *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "load generators",
		Subcommands: []*cli.Command{
			benchZKCommand(log),
			benchZKLoadCommand(log),
			benchKafkaCommand(log),
			benchLoopbackCommand(),
		},
	}
}

// serversFlag is made afresh for each command because a cli flag keeps the value it parsed.
func serversFlag() cli.Flag {
	return &cli.StringFlag{
		Name:     "servers",
		Usage:    "ZooKeeper servers, host:port[,host:port...]",
		Required: true,
	}
}

func benchZKCommand(log *slog.Logger) *cli.Command {
	return &cli.Command{
		Name:  "zk",
		Usage: "run a ZooKeeper workload: closed-loop clients, one session each, synchronous requests",
		Flags: []cli.Flag{
			serversFlag(),
			&cli.StringFlag{Name: "op", Value: string(zkbench.OpMixed), Usage: "create, set, get or mixed (80% get, 20% set)"},
			&cli.IntFlag{Name: "clients", Value: 32, Usage: "concurrent sessions"},
			&cli.IntFlag{Name: "size", Value: 1024, Usage: "bytes per value"},
			&cli.DurationFlag{Name: "duration", Value: 10 * time.Second, Usage: "measured time"},
			&cli.DurationFlag{Name: "warmup", Value: 2 * time.Second, Usage: "time run before measuring"},
			&cli.IntFlag{Name: "znodes", Value: 1000, Usage: "pre-created znodes that set, get and mixed spread over"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON line of results"},
		},
		Action: func(c *cli.Context) error {
			op, err := zkbench.ParseOp(c.String("op"))
			if err != nil {
				return err
			}
			res, runErr := zkbench.Run(c.Context, zkbench.Config{
				Servers:  splitServers(c.String("servers")),
				Op:       op,
				Clients:  c.Int("clients"),
				Size:     c.Int("size"),
				Duration: c.Duration("duration"),
				Warmup:   c.Duration("warmup"),
				Znodes:   c.Int("znodes"),
				Logger:   log,
			})
			if res == nil {
				return runErr
			}
			if err := writeResult(c, res); err != nil {
				return err
			}
			return runErr
		},
	}
}

func benchZKLoadCommand(log *slog.Logger) *cli.Command {
	return &cli.Command{
		Name:  "zk-load",
		Usage: "create znodes under " + zkbench.LoadParent + " (for memory measurements)",
		Flags: []cli.Flag{
			serversFlag(),
			&cli.IntFlag{Name: "znodes", Value: 100000, Usage: "znodes to create"},
			&cli.IntFlag{Name: "size", Value: 1024, Usage: "bytes per value"},
			&cli.IntFlag{Name: "clients", Value: 32, Usage: "concurrent sessions doing the creates"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON line of results"},
		},
		Action: func(c *cli.Context) error {
			res, runErr := zkbench.Load(c.Context, zkbench.LoadConfig{
				Servers: splitServers(c.String("servers")),
				Znodes:  c.Int("znodes"),
				Size:    c.Int("size"),
				Clients: c.Int("clients"),
				Logger:  log,
			})
			if res == nil {
				return runErr
			}
			if err := writeResult(c, res); err != nil {
				return err
			}
			return runErr
		},
	}
}

// result is what both benchmark kinds print.
type result interface {
	WriteJSON(w io.Writer) error
	WriteText(w io.Writer) error
}

func benchLoopbackCommand() *cli.Command {
	return &cli.Command{
		Name: "loopback",
		Usage: "measure one 127.0.0.1 TCP connection used as a consumer uses it (small request, large response, " +
			"one at a time): an upper bound on any broker's consume throughput with one consumer on this machine",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "bytes", Value: 1 << 20, Usage: "response size"},
			&cli.DurationFlag{Name: "duration", Value: 3 * time.Second, Usage: "measured time"},
		},
		Action: func(c *cli.Context) error {
			bps, err := kbench.Loopback(c.Context, c.Int("bytes"), c.Duration("duration"))
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.App.Writer, "%d-byte responses: %.1f MB/s\n", c.Int("bytes"), bps/1e6)
			return err
		},
	}
}

func writeResult(c *cli.Context, r result) error {
	if c.Bool("json") {
		return r.WriteJSON(c.App.Writer)
	}
	return r.WriteText(c.App.Writer)
}

func splitServers(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func benchKafkaCommand(log *slog.Logger) *cli.Command {
	return &cli.Command{
		Name:  "kafka",
		Usage: "run a Kafka workload: produce records, or consume back what a topic holds",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "brokers", Usage: "bootstrap brokers, host:port[,host:port...]", Required: true},
			&cli.StringFlag{Name: "topic", Value: "zkafka-bench", Usage: "topic (produce creates it when missing and the broker can)"},
			&cli.StringFlag{Name: "op", Value: string(kbench.OpProduce), Usage: "produce or consume"},
			&cli.StringFlag{Name: "acks", Value: "1", Usage: "produce acks: 0, 1 or all"},
			&cli.IntFlag{Name: "size", Value: 100, Usage: "bytes per record value"},
			&cli.IntFlag{Name: "partitions", Value: 1, Usage: "partitions the topic has (or is created with)"},
			&cli.Int64Flag{Name: "records", Usage: "stop after this many records (0: run for --duration; consume: to the end)"},
			&cli.DurationFlag{Name: "duration", Value: 10 * time.Second, Usage: "measured time when --records is 0"},
			&cli.StringFlag{Name: "client", Value: kbench.ClientFranz, Usage: "franz (franz-go's producer and consumer) " +
				"or raw (pre-encoded requests and a minimal consumer: the broker's cost, not a client library's; needs --max-version)"},
			&cli.IntFlag{Name: "buffered", Value: 10000, Usage: "franz: records the producer keeps in flight"},
			&cli.DurationFlag{Name: "linger", Usage: "franz: producer linger"},
			&cli.IntFlag{Name: "inflight", Value: 1, Usage: "produce requests in flight per broker " +
				"(1 is franz-go's default without idempotence; the Java producer's is 5)"},
			&cli.IntFlag{Name: "batch-bytes", Value: 16384, Usage: "raw: record bytes per partition in each produce " +
				"request (the Java producer's batch.size)"},
			&cli.StringFlag{Name: "max-version", Usage: "Kafka version whose request versions the client keeps to, e.g. 0.9.0 (default: negotiate)"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON line of results"},
		},
		Action: func(c *cli.Context) error {
			op, err := kbench.ParseOp(c.String("op"))
			if err != nil {
				return err
			}
			res, runErr := kbench.Run(c.Context, kbench.Config{
				Brokers:    splitServers(c.String("brokers")),
				Topic:      c.String("topic"),
				Op:         op,
				Acks:       c.String("acks"),
				Size:       c.Int("size"),
				Partitions: c.Int("partitions"),
				Records:    c.Int64("records"),
				Duration:   c.Duration("duration"),
				Buffered:   c.Int("buffered"),
				Linger:     c.Duration("linger"),
				Inflight:   c.Int("inflight"),
				Client:     c.String("client"),
				BatchBytes: c.Int("batch-bytes"),
				MaxVersion: c.String("max-version"),
				Logger:     log,
			})
			if res == nil {
				return runErr
			}
			if err := writeResult(c, res); err != nil {
				return err
			}
			return runErr
		},
	}
}
