// Command zkafka is the developer's tool for the zkafka project: load generators now, later the dev loop,
// cross-checks and migration.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/zkafka/zkafka/kafkaserver/loggers"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{ReplaceAttr: loggers.ReplaceLevel}))
	if err := newApp(os.Stdout, os.Stderr, log).RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "zkafka:", err)
		stop()
		os.Exit(1)
	}
}

// newApp builds the command tree. Each subcommand lives in its own file as a func returning *cli.Command;
// adding one is one line in Commands.
func newApp(stdout, stderr io.Writer, log *slog.Logger) *cli.App {
	return &cli.App{
		Name:      "zkafka",
		Usage:     "zkafka developer tool",
		Writer:    stdout,
		ErrWriter: stderr,
		Commands: []*cli.Command{
			benchCommand(log),
			devCommand(log),
		},
	}
}
