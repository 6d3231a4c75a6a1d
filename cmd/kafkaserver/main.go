// Command kafkaserver runs a Kafka 2.8 compatible broker in ZooKeeper mode, as kafka-server-start.sh does:
//
//	kafkaserver <server.properties> [--override key=value]...
//
// It logs to stderr and shuts down cleanly (checkpoints written) on SIGTERM or SIGINT.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/broker"
	"github.com/zkafka/zkafka/kafkaserver/loggers"
)

func main() {
	// INFO is the root level the broker's loggers start at; BROKER_LOGGER configs change it live.
	logger := slog.New(slog.NewTextHandler(os.Stderr,
		&slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: loggers.ReplaceLevel}))
	if err := newApp(logger).Run(os.Args); err != nil {
		logger.Error("kafkaserver failed", "err", err)
		os.Exit(1)
	}
}

const usage = "usage: kafkaserver <server.properties> [--override property=value]*"

func newApp(logger *slog.Logger) *cli.App {
	return &cli.App{
		Name:      "kafkaserver",
		Usage:     "Kafka 2.8 compatible broker (ZooKeeper mode)",
		ArgsUsage: "<server.properties> [--override property=value]*",
		// kafka.Kafka takes the properties file first and --override options after it, which urfave/cli's flag
		// parsing (flags before arguments) cannot express.
		SkipFlagParsing: true,
		HideHelp:        true,
		Action: func(c *cli.Context) error {
			path, overrides, err := parseArgs(c.Args().Slice())
			if err != nil {
				return cli.Exit(err.Error()+"\n"+usage, 2)
			}
			ctx, stop := signal.NotifyContext(c.Context, syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return run(ctx, path, overrides, logger, nil)
		},
	}
}

// parseArgs splits kafka.Kafka's arguments: the properties file, then --override k=v (or --override=k=v).
func parseArgs(args []string) (string, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return "", nil, fmt.Errorf("missing server.properties")
	}
	path := args[0]
	var overrides []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--override":
			if i+1 >= len(args) {
				return "", nil, fmt.Errorf("--override needs property=value")
			}
			i++
			overrides = append(overrides, args[i])
		case strings.HasPrefix(a, "--override="):
			overrides = append(overrides, strings.TrimPrefix(a, "--override="))
		default:
			return "", nil, fmt.Errorf("unexpected argument %q", a)
		}
	}
	for _, o := range overrides {
		if !strings.Contains(o, "=") {
			return "", nil, fmt.Errorf("override %q is not property=value", o)
		}
	}
	return path, overrides, nil
}

// run starts a broker from path and overrides, serves until ctx ends, then shuts it down. ready, if set, gets the
// running broker.
func run(ctx context.Context, path string, overrides []string, logger *slog.Logger, ready func(*broker.Broker)) error {
	cfg, err := serverprops.Load(path, overrides, logger)
	if err != nil {
		return fmt.Errorf("load %s: %w", path, err)
	}
	b := broker.New(cfg, logger)
	if err := b.Start(ctx); err != nil {
		return fmt.Errorf("start broker: %w", err)
	}
	if ready != nil {
		ready(b)
	}
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case ferr := <-b.Fatal():
		// Kafka's FatalExitError: shut down, then exit with status 1.
		logger.Error("fatal error, shutting down", "err", ferr)
		return errors.Join(ferr, b.Close())
	}
	return b.Close()
}
