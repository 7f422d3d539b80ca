package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

// EmbeddedConfig configures [StartEmbedded]. Start from
// [DefaultEmbeddedConfig].
type EmbeddedConfig struct {
	// Addr is the "host:port" to listen on; port 0 picks a free port. The
	// host must be a specific address (not 0.0.0.0 or ::), because the
	// broker advertises the address it is bound to in metadata and
	// clients then dial that. Default "127.0.0.1:0".
	Addr string
	// Partitions is the partition count of Topics and of topics created
	// later without a count. Default DefaultPartitions.
	Partitions int
	// Topics are created at start (names must follow Kafka's rules).
	Topics []string
	// DataDir, when set, persists records, topics and committed offsets
	// there and reloads them on the next start; empty keeps everything in
	// memory, lost at Close.
	DataDir string
	// Logger receives the broker's warnings and errors; nil discards them.
	Logger *slog.Logger
}

// DefaultEmbeddedConfig returns a loopback broker on a free port with the
// system's topics (SystemTopics) at DefaultPartitions partitions, in
// memory.
func DefaultEmbeddedConfig() EmbeddedConfig {
	return EmbeddedConfig{
		Addr:       "127.0.0.1:0",
		Partitions: DefaultPartitions,
		Topics:     SystemTopics(),
	}
}

// Embedded is an in-process Kafka-protocol broker (franz-go's kfake) with
// one node, for the single-machine default and for tests. External clients
// (kafka-go, franz-go, kcat) can use it through Brokers. It supports
// produce with acks=all, consumer groups and offset commits; replication
// is trivially complete with one node.
type Embedded struct {
	cluster   *kfake.Cluster
	addr      string
	log       *slog.Logger
	closeOnce sync.Once
}

// StartEmbedded binds the listener, starts the broker, creates cfg.Topics
// and returns once the broker has answered a metadata request on its
// advertised address. ctx bounds the start only; the broker runs until
// Close.
func StartEmbedded(ctx context.Context, cfg EmbeddedConfig) (*Embedded, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("kafka: embedded: %w", err)
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Partitions == 0 {
		cfg.Partitions = DefaultPartitions
	}
	if cfg.Partitions < 0 {
		return nil, fmt.Errorf("kafka: embedded: negative partitions %d", cfg.Partitions)
	}
	if err := checkListenAddr(cfg.Addr); err != nil {
		return nil, fmt.Errorf("kafka: embedded: %w", err)
	}
	for _, t := range cfg.Topics {
		if err := validateTopicName(t); err != nil {
			return nil, fmt.Errorf("kafka: embedded: %w", err)
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "kafka.embedded")

	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		// kfake always listens on 127.0.0.1:port; ListenFn lets us bind
		// the configured host instead. It is called once per broker.
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, cfg.Addr)
		}),
		kfake.DefaultNumPartitions(cfg.Partitions),
		kfake.WithLogger(kfakeLogger{log}),
		kfake.ClusterID("fhirhub-embedded"),
	}
	if len(cfg.Topics) > 0 {
		opts = append(opts, kfake.SeedTopics(int32(cfg.Partitions), cfg.Topics...))
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: embedded: start: %w", err)
	}
	addrs := cluster.ListenAddrs()
	if len(addrs) != 1 {
		cluster.Close()
		return nil, fmt.Errorf("kafka: embedded: broker listens on %d addresses, want 1", len(addrs))
	}
	e := &Embedded{cluster: cluster, addr: addrs[0], log: log}
	if err := e.checkAdvertised(ctx); err != nil {
		cluster.Close()
		return nil, fmt.Errorf("kafka: embedded: %w", err)
	}
	log.Info("kafka embedded broker started", "addr", e.addr, "topics", len(cfg.Topics),
		"partitions", cfg.Partitions, "persistent", cfg.DataDir != "")
	return e, nil
}

// Brokers returns the broker's bootstrap address, for Config.Brokers.
func (e *Embedded) Brokers() []string { return []string{e.addr} }

// Close stops the broker: the listener and every client connection are
// closed, so clients see connection errors at once. Without DataDir all
// records and offsets are discarded. Close is idempotent.
func (e *Embedded) Close() error {
	e.closeOnce.Do(func() {
		e.cluster.Close()
		e.log.Info("kafka embedded broker stopped", "addr", e.addr)
	})
	return nil
}

// checkListenAddr refuses addresses a client could not dial back: kfake
// advertises the address it is bound to.
func checkListenAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("address %q: invalid port", addr)
	}
	if host == "" {
		return fmt.Errorf("address %q: empty host; the broker advertises its bound address, so use a specific one such as 127.0.0.1", addr)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return fmt.Errorf("address %q: unspecified host; the broker advertises its bound address, so use a specific one such as 127.0.0.1", addr)
	}
	return nil
}

// checkAdvertised asks the broker for metadata on its listener and checks
// that it advertises exactly that address: clients such as kafka-go dial
// the advertised address for every request after bootstrap.
func (e *Embedded) checkAdvertised(ctx context.Context) error {
	tr := &kafkago.Transport{ClientID: "fhirhub-embedded-check"}
	defer tr.CloseIdleConnections()
	client := &kafkago.Client{Addr: kafkago.TCP(e.addr), Transport: tr, Timeout: requestTimeout}
	md, err := client.Metadata(ctx, &kafkago.MetadataRequest{})
	if err != nil {
		return fmt.Errorf("metadata from %s: %w", e.addr, err)
	}
	if len(md.Brokers) != 1 {
		return fmt.Errorf("metadata from %s lists %d brokers, want 1", e.addr, len(md.Brokers))
	}
	b := md.Brokers[0]
	if got := net.JoinHostPort(b.Host, strconv.Itoa(b.Port)); got != e.addr {
		return fmt.Errorf("broker listening on %s advertises %s", e.addr, got)
	}
	return nil
}

// kfakeLogger forwards kfake's warnings and errors to slog. kfake's log
// lines name clients, groups, members, topics and partitions, never record
// keys or values. Its info lines (one per group join) go to Debug.
type kfakeLogger struct{ log *slog.Logger }

func (l kfakeLogger) Logf(level kfake.LogLevel, format string, args ...any) {
	var sl slog.Level
	switch level {
	case kfake.LogLevelError:
		sl = slog.LevelError
	case kfake.LogLevelWarn:
		sl = slog.LevelWarn
	case kfake.LogLevelInfo:
		sl = slog.LevelDebug
	default:
		return // LogLevelDebug: per-request tracing, too verbose even for Debug
	}
	// kfake calls this from its own goroutines without a context;
	// Background only carries no values to the handler.
	ctx := context.Background()
	if !l.log.Enabled(ctx, sl) {
		return
	}
	l.log.Log(ctx, sl, "kfake", "detail", fmt.Sprintf(format, args...))
}

var _ kfake.Logger = kfakeLogger{}
