// Command zkserver runs a ZooKeeper server from an Apache zoo.cfg:
//
//	zkserver start-foreground <zoo.cfg>
//	zkserver <zoo.cfg>
//
// It logs to stderr and shuts down cleanly on SIGTERM or SIGINT.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/zkserver"
	"github.com/zkafka/zkafka/zkserver/admin"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := newApp(logger, os.Stdout).Run(os.Args); err != nil {
		logger.Error("zkserver failed", "err", err)
		os.Exit(1)
	}
}

func newApp(logger *slog.Logger, stdout io.Writer) *cli.App {
	run := func(c *cli.Context) error {
		cfgPath := c.Args().First()
		if c.Args().Len() > 1 && c.Args().First() == "start-foreground" {
			cfgPath = c.Args().Get(1)
		}
		if cfgPath == "" || cfgPath == "start-foreground" {
			return cli.Exit("usage: zkserver [start-foreground] <zoo.cfg>", 2)
		}
		ctx, stop := signal.NotifyContext(c.Context, syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		return serve(ctx, cfgPath, os.Getenv("SERVER_JVMFLAGS")+" "+os.Getenv("JVMFLAGS"), logger, nil)
	}
	return &cli.App{
		Name:      "zkserver",
		Usage:     "ZooKeeper 3.8 compatible server",
		ArgsUsage: "[start-foreground] <zoo.cfg>",
		Writer:    stdout,
		Action:    run,
		Commands: []*cli.Command{{
			Name:      "start-foreground",
			Usage:     "run in the foreground (as zkServer.sh start-foreground)",
			ArgsUsage: "<zoo.cfg>",
			Action:    run,
		}},
	}
}

// serve loads cfgPath, runs the server until ctx ends, then closes it.
// ready, if not nil, receives the running server.
func serve(ctx context.Context, cfgPath, jvmFlags string, logger *slog.Logger, ready func(*zkserver.Server)) error {
	zc, err := zoocfg.Load(cfgPath, jvmFlags, logger)
	if err != nil {
		return fmt.Errorf("load %s: %w", cfgPath, err)
	}
	cfg := zkserver.ConfigFromZooCfg(zc, logger)
	if cfg.Quorum, err = zkserver.QuorumFromZooCfg(zc, logger); err != nil {
		return fmt.Errorf("load %s: %w", cfgPath, err)
	}
	if cfg.Secure, err = zkserver.SecureFromZooCfg(zc); err != nil {
		return fmt.Errorf("load %s: %w", cfgPath, err)
	}
	if err := zkserver.AuthFromZooCfg(zc, &cfg); err != nil {
		return fmt.Errorf("load %s: %w", cfgPath, err)
	}
	srv, err := zkserver.Start(cfg)
	if err != nil {
		return err
	}
	if zc.AdminEnableServer {
		if err := startAdminServer(zc, srv, logger); err != nil {
			srv.Close()
			return fmt.Errorf("start admin server: %w", err)
		}
	}
	if zc.PrometheusEnabled() {
		ms, err := admin.NewMetricsServer(srv.Source(), net.JoinHostPort(zc.MetricsHTTPHost, strconv.Itoa(zc.MetricsHTTPPort)), logger)
		if err == nil {
			err = ms.Start()
		}
		if err != nil {
			srv.Close()
			return fmt.Errorf("start metrics server: %w", err)
		}
		srv.OnClose(ms.Close)
	}
	if ready != nil {
		ready(srv)
	}
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case <-srv.Done():
	}
	cerr := srv.Close()
	if err := srv.Err(); err != nil {
		return err
	}
	return cerr
}

// startAdminServer starts the AdminServer as Apache's AdminServerFactory and JettyAdminServer do: over HTTPS with
// admin.forceHttps or admin.portUnification, and, when its certificates do not load, not at all (the server runs
// on without it, with a warning). A port that cannot be bound stops the server.
func startAdminServer(zc *zoocfg.Config, srv *zkserver.Server, logger *slog.Logger) error {
	stats := &srv.Processor().Stats
	https, err := zkserver.AdminHTTPSFromZooCfg(zc, func() { stats.InsecureAdmin.Add(1) })
	if err != nil {
		logger.Error("failed to load the certificates for the admin server; the admin server does not start", "err", err)
		return nil
	}
	if https != nil && zc.AdminHTTPVersion != zoocfg.DefaultAdminHTTPVersion {
		logger.Warn("admin.httpVersion other than 11 is not supported; serving HTTP/1.1", "httpVersion", zc.AdminHTTPVersion)
	}
	as, err := admin.NewAdminServer(srv.Source(), net.JoinHostPort(zc.AdminServerAddress, strconv.Itoa(zc.AdminServerPort)), zc.AdminCommandURL, logger)
	if err != nil {
		return err
	}
	as.SetIdleTimeout(time.Duration(zc.AdminIdleTimeoutMs) * time.Millisecond)
	if https != nil {
		as.UseHTTPS(https)
	}
	if err := as.Start(); err != nil {
		return err
	}
	srv.OnClose(as.Close)
	return nil
}
