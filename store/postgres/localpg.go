package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// LocalConfig configures a private PostgreSQL server run from the local
// installation (the embedded default of `fhirhub serve` and of the tests).
type LocalConfig struct {
	// Dir is the data directory; it is created with initdb when empty.
	Dir string
	// BinDir holds initdb and postgres; "" searches the usual Debian and
	// PATH locations.
	BinDir string
	// Port is the loopback port; 0 picks a free one.
	Port int
	// Logger receives lifecycle lines; nil discards.
	Logger *slog.Logger
	// Settings are extra postgres -c settings.
	Settings map[string]string
}

// Local is a running private PostgreSQL server.
type Local struct {
	cfg  LocalConfig
	cmd  *exec.Cmd
	port int
	done chan struct{}
	err  error
	log  *slog.Logger
}

// The database user and database the local server is set up with.
const (
	localUser     = "fhirhub"
	localDatabase = "fhirhub"
)

// StartLocal starts a private PostgreSQL server in cfg.Dir on 127.0.0.1,
// running initdb first when the directory is empty. When the process runs
// as root, the server runs as user "postgres" (PostgreSQL refuses root).
// It returns once the server accepts connections; Stop ends it.
func StartLocal(ctx context.Context, cfg LocalConfig) (*Local, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Dir == "" {
		return nil, errors.New("postgres: local: no data directory")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("postgres: local: %w", err)
	}
	cfg.Dir = dir
	bin, err := findBinDir(cfg.BinDir)
	if err != nil {
		return nil, err
	}
	runAs, err := serverUser()
	if err != nil {
		return nil, err
	}
	// Parents must be traversable by the server's user; the data
	// directory itself is private to it.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("postgres: local: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("postgres: local: %w", err)
	}
	if runAs != nil {
		if err := os.Chown(dir, runAs.uid, runAs.gid); err != nil {
			return nil, fmt.Errorf("postgres: local: chown %s: %w", dir, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		log.Info("initialising local postgres", "dir", dir)
		out, err := runCmd(ctx, runAs, filepath.Join(bin, "initdb"),
			"-D", dir, "-U", localUser, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8")
		if err != nil {
			hint := ""
			if runAs != nil {
				hint = " (the user 'postgres' must be able to reach " + dir + ": check the permissions of its parent directories)"
			}
			return nil, fmt.Errorf("postgres: local: initdb: %w: %s%s", err, lastLines(out, 5), hint)
		}
	}
	// A server left running by a killed process holds the directory.
	stopStale(ctx, runAs, bin, dir, log)

	port := cfg.Port
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	args := []string{"-D", dir, "-p", strconv.Itoa(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "max_connections=200",
		"-c", "shared_buffers=512MB",
		"-c", "fsync=on",
		"-c", "synchronous_commit=on",
		"-c", "max_wal_size=2GB",
		"-c", "logging_collector=off",
		"-c", "log_min_messages=warning",
	}
	for k, v := range cfg.Settings {
		args = append(args, "-c", k+"="+v)
	}
	cmd := command(context.WithoutCancel(ctx), runAs, filepath.Join(bin, "postgres"), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{buf: &stderr, max: 64 << 10}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("postgres: local: start: %w", err)
	}
	l := &Local{cfg: cfg, cmd: cmd, port: port, done: make(chan struct{}), log: log}
	go func() { l.err = cmd.Wait(); close(l.done) }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := ping(ctx, l.AdminURL()); err == nil {
			break
		}
		select {
		case <-l.done:
			return nil, fmt.Errorf("postgres: local: server exited: %v: %s", l.err, lastLines(stderr.Bytes(), 10))
		case <-ctx.Done():
			l.Stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			l.Stop()
			return nil, fmt.Errorf("postgres: local: server did not accept connections in time: %s", lastLines(stderr.Bytes(), 10))
		}
	}
	if err := ensureDatabase(ctx, l.AdminURL(), localDatabase); err != nil {
		l.Stop()
		return nil, err
	}
	log.Info("local postgres running", "dir", dir, "port", port)
	return l, nil
}

// URL returns the connection URL of the fhirhub database.
func (l *Local) URL() string { return l.DatabaseURL(localDatabase) }

// AdminURL returns the connection URL of the maintenance database.
func (l *Local) AdminURL() string { return l.DatabaseURL("postgres") }

// DatabaseURL returns the connection URL of database name on this server.
func (l *Local) DatabaseURL(name string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", localUser, l.port, name)
}

// Port returns the server's loopback port.
func (l *Local) Port() int { return l.port }

// Stop shuts the server down (fast shutdown: open transactions are rolled
// back, committed data is durable) and waits for it to exit.
func (l *Local) Stop() error {
	select {
	case <-l.done:
		return nil
	default:
	}
	_ = l.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-l.done:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-l.cmd.Process.Pid, syscall.SIGKILL)
		<-l.done
	}
	l.log.Info("local postgres stopped", "dir", l.cfg.Dir)
	return nil
}

// CreateDatabase creates database name (dropping one of that name first).
func (l *Local) CreateDatabase(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, l.AdminURL())
	if err != nil {
		return "", fmt.Errorf("postgres: local: %w", err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return "", fmt.Errorf("postgres: local: drop database: %w", err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", fmt.Errorf("postgres: local: create database: %w", err)
	}
	return l.DatabaseURL(name), nil
}

func ensureDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("postgres: local: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: local: %w", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			return fmt.Errorf("postgres: local: create database: %w", err)
		}
	}
	return nil
}

func ping(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

type osUser struct{ uid, gid int }

// serverUser returns the user to run PostgreSQL as: nil for the current
// user, "postgres" when running as root.
func serverUser() (*osUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("postgres: local: running as root needs a 'postgres' user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &osUser{uid: uid, gid: gid}, nil
}

func command(ctx context.Context, as *osUser, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if as != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(as.uid), Gid: uint32(as.gid)}
		cmd.Env = append(os.Environ(), "HOME=/tmp")
	}
	cmd.Dir = os.TempDir()
	return cmd
}

func runCmd(ctx context.Context, as *osUser, name string, args ...string) ([]byte, error) {
	return command(ctx, as, name, args...).CombinedOutput()
}

func stopStale(ctx context.Context, as *osUser, bin, dir string, log *slog.Logger) {
	pidFile := filepath.Join(dir, "postmaster.pid")
	if _, err := os.Stat(pidFile); err != nil {
		return
	}
	out, err := runCmd(ctx, as, filepath.Join(bin, "pg_ctl"), "-D", dir, "status")
	if err != nil {
		return // not running; postgres removes a stale pid file itself
	}
	log.Warn("stopping a local postgres left running", "dir", dir, "status", lastLines(out, 1))
	_, _ = runCmd(ctx, as, filepath.Join(bin, "pg_ctl"), "-D", dir, "-m", "fast", "-w", "stop")
}

func findBinDir(dir string) (string, error) {
	candidates := []string{dir}
	if dir == "" {
		candidates = nil
		if p, err := exec.LookPath("initdb"); err == nil {
			candidates = append(candidates, filepath.Dir(p))
		}
		for _, v := range []string{"17", "16", "15", "14"} {
			candidates = append(candidates, "/usr/lib/postgresql/"+v+"/bin")
		}
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(c, "postgres")); err == nil {
			return c, nil
		}
	}
	return "", errors.New("postgres: local: no PostgreSQL installation found (looked for initdb/postgres on PATH and in /usr/lib/postgresql/*/bin); set DATABASE_URL or install PostgreSQL")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("postgres: local: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

type limitedWriter struct {
	buf *bytes.Buffer
	max int
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if w.buf.Len() < w.max {
		w.buf.Write(p)
	}
	return len(p), nil
}
