package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/urfave/cli/v2"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/kafkaserver/broker"
	"github.com/zkafka/zkafka/zkserver"
)

// devConfig is what `zkafka dev` runs: one ZooKeeper server and one broker on loopback, data under DataDir.
type devConfig struct {
	Host      string
	ZKPort    int
	KafkaPort int
	DataDir   string
}

// devAddrs are the addresses the dev stack listens on, once it is up.
type devAddrs struct {
	ZooKeeper string
	Kafka     string
}

func devCommand(log *slog.Logger) *cli.Command {
	return &cli.Command{
		Name:  "dev",
		Usage: "run ZooKeeper and one Kafka broker in this process, data under --data-dir (what `make run` starts)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "host", Value: "127.0.0.1", Usage: "address both servers listen on"},
			&cli.IntFlag{Name: "zk-port", Value: 2181, Usage: "ZooKeeper client port"},
			&cli.IntFlag{Name: "kafka-port", Value: 9092, Usage: "Kafka PLAINTEXT listener port"},
			&cli.StringFlag{Name: "data-dir", Value: "data", Usage: "data root: <dir>/zookeeper and <dir>/kafka"},
		},
		Action: func(c *cli.Context) error {
			cfg := devConfig{
				Host:      c.String("host"),
				ZKPort:    c.Int("zk-port"),
				KafkaPort: c.Int("kafka-port"),
				DataDir:   c.String("data-dir"),
			}
			return runDev(c.Context, cfg, log, nil)
		},
	}
}

// devZooCfg is the zoo.cfg `zkafka dev` runs ZooKeeper with.
func devZooCfg(cfg devConfig, dataDir string) []zoocfg.Property {
	return []zoocfg.Property{
		{Key: "tickTime", Value: "2000"},
		{Key: "initLimit", Value: "10"},
		{Key: "syncLimit", Value: "5"},
		{Key: "dataDir", Value: dataDir},
		{Key: "clientPort", Value: strconv.Itoa(cfg.ZKPort)},
		{Key: "clientPortAddress", Value: cfg.Host},
		{Key: "admin.enableServer", Value: "false"},
		{Key: "4lw.commands.whitelist", Value: "*"},
		{Key: "extendedTypesEnabled", Value: "true"},
	}
}

// devServerProps is the server.properties `zkafka dev` runs the broker with.
func devServerProps(cfg devConfig, logDir, zkConnect string) map[string]string {
	return map[string]string{
		"broker.id":                        "0",
		"listeners":                        "PLAINTEXT://" + net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.KafkaPort)),
		"log.dirs":                         logDir,
		"zookeeper.connect":                zkConnect,
		"offsets.topic.replication.factor": "1",
		"transaction.state.log.replication.factor": "1",
		"transaction.state.log.min.isr":            "1",
		"num.partitions":                           "1",
	}
}

// runDev starts ZooKeeper, then the broker on it, serves until ctx ends, then stops the broker and ZooKeeper in
// that order (the broker's session goes before the server). ready, if set, gets the bound addresses.
func runDev(ctx context.Context, cfg devConfig, logger *slog.Logger, ready func(devAddrs)) error {
	root, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}
	zkDir, kafkaDir := filepath.Join(root, "zookeeper"), filepath.Join(root, "kafka")
	for _, d := range []string{zkDir, kafkaDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}

	zlog := logger.With("server", "zookeeper")
	zc, err := zoocfg.FromProperties(devZooCfg(cfg, zkDir), nil, zlog)
	if err != nil {
		return fmt.Errorf("zookeeper config: %w", err)
	}
	zk, err := zkserver.Start(zkserver.ConfigFromZooCfg(zc, zlog))
	if err != nil {
		return fmt.Errorf("start zookeeper: %w", err)
	}
	defer func() {
		if err := zk.Close(); err != nil {
			zlog.Warn("close", "err", err)
		}
	}()
	zkAddr := zk.Addr().String()
	zlog.Info("zookeeper up", "addr", zkAddr, "dataDir", zkDir)

	klog := logger.With("server", "kafka")
	props, err := serverprops.FromMap(devServerProps(cfg, kafkaDir, zkAddr), nil, klog)
	if err != nil {
		return fmt.Errorf("broker config: %w", err)
	}
	b := broker.New(props, klog)
	// The broker's background work runs under its own context: Close, not ctx, stops it, so that the shutdown
	// order stays broker then ZooKeeper.
	if err := b.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start broker: %w", err)
	}
	kafkaAddr := ""
	if a := b.Addr("PLAINTEXT"); a != nil {
		kafkaAddr = a.String()
	}
	// Until the controller has told the broker about itself, metadata lists no brokers and topic creation fails.
	if err := waitBrokerListed(ctx, kafkaAddr, 30*time.Second); err != nil {
		klog.Warn("broker not in its own metadata yet", "err", err)
	}
	klog.Info("kafka up", "addr", kafkaAddr, "logDir", kafkaDir)
	if ready != nil {
		ready(devAddrs{ZooKeeper: zkAddr, Kafka: kafkaAddr})
	}

	var runErr error
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case runErr = <-b.Fatal():
	case <-zk.Done():
		runErr = zk.Err()
		if runErr == nil {
			runErr = errors.New("zookeeper stopped")
		}
	}
	start := time.Now()
	if err := b.Close(); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("close broker: %w", err))
	}
	logger.Info("broker stopped", "took", time.Since(start).Round(time.Millisecond))
	return runErr
}

// waitBrokerListed polls the broker's metadata until it lists at least one broker.
func waitBrokerListed(ctx context.Context, addr string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return fmt.Errorf("client for %s: %w", addr, err)
	}
	defer cl.Close()
	for {
		resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
		if err == nil && len(resp.Brokers) > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("metadata from %s: %w (last error %v)", addr, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
