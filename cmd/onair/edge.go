package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/onair/onair/delivery"
	"github.com/onair/onair/delivery/edge"
)

// edgeConfig is the settings of `onair edge`, filled like serve's: defaults,
// then ONAIR_* environment variables, then flags; then validated.
type edgeConfig struct {
	Origins   []string
	HTTP      string
	CacheSize byteSize
	LogLevel  string
	LogFormat string

	// APIToken is the origins' API token: with it the edge checks tokens and
	// allowed origins itself and reports its viewers to the origin.
	APIToken string

	// GeoIP and CountryHeader say where a viewer's country comes from.
	GeoIP         string
	CountryHeader string

	originURLs []*url.URL
}

// originList is the repeatable --origin flag. ONAIR_ORIGIN holds a
// comma-separated list; --origin flags given on the command line replace it.
type originList struct {
	list    *[]string
	fromEnv bool
}

func (o *originList) String() string {
	if o.list == nil {
		return ""
	}

	return strings.Join(*o.list, ",")
}

func (o *originList) Set(v string) error {
	if o.fromEnv {
		*o.list = nil
		o.fromEnv = false
	}

	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*o.list = append(*o.list, s)
		}
	}

	return nil
}

// byteSize is a flag holding a size such as 256MiB, 1GB or 1048576.
type byteSize int64

// sizeUnits are the suffixes byteSize takes, longest first.
var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1},
}

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(v string) error {
	num, factor := strings.TrimSpace(v), int64(1)

	for _, u := range sizeUnits {
		if strings.HasSuffix(num, u.suffix) {
			num, factor = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.factor
			break
		}
	}

	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<50)/factor {
		return fmt.Errorf("size %q: want a positive number of bytes, KiB, MiB or GiB", v)
	}

	*b = byteSize(n * factor)

	return nil
}

// newEdgeFlagSet declares edge's flags over cfg; the returned list is the
// --origin value, whose environment values later flags replace.
func newEdgeFlagSet(cfg *edgeConfig, out io.Writer) (*flag.FlagSet, *originList) {
	fs := flag.NewFlagSet("edge", flag.ContinueOnError)
	fs.SetOutput(out)

	origins := &originList{list: &cfg.Origins}
	cfg.CacheSize = edge.DefaultMaxBytes

	fs.Var(origins, "origin", "base URL of an origin (onair serve); repeat for several")
	fs.StringVar(&cfg.HTTP, "http", ":8080", "address the edge serves playback and /healthz on")
	fs.Var(&cfg.CacheSize, "cache-size", "bytes the cached objects may hold, e.g. 256MiB")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&cfg.LogFormat, "log-format", "text", "text or json")
	fs.StringVar(&cfg.APIToken, "api-token", "",
		"the origins' API token: check signed URLs and origins here, report viewers to the origin")
	fs.StringVar(&cfg.GeoIP, "geoip", "", "MaxMind-format database giving viewers' countries")
	fs.StringVar(&cfg.CountryHeader, "country-header", "",
		"trusted request header holding the viewer's country code, used without --geoip")

	return fs, origins
}

// loadEdgeConfig reads the environment and args into a validated config.
func loadEdgeConfig(args []string, getenv func(string) string,
	out io.Writer) (*edgeConfig, error) {
	cfg := &edgeConfig{}
	fs, origins := newEdgeFlagSet(cfg, out)

	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); v != "" && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("%s: %w", envName(f.Name), err)
			}
		}
	})

	if envErr != nil {
		return nil, envErr
	}

	origins.fromEnv = true

	if err := fs.Parse(args); err != nil {
		return nil, err
	}

	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	return cfg, cfg.validate()
}

func (c *edgeConfig) validate() error {
	if len(c.Origins) == 0 {
		return errors.New("--origin: want at least one origin URL")
	}

	c.originURLs = nil

	for _, s := range c.Origins {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--origin %q: want an http or https URL with a host", s)
		}

		c.originURLs = append(c.originURLs, u)
	}

	if _, _, err := net.SplitHostPort(c.HTTP); err != nil {
		return fmt.Errorf("--http %q: want host:port or :port", c.HTTP)
	}

	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}

	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
	}

	return nil
}

// edgeNode is one `onair edge` process: the cache and its HTTP server.
type edgeNode struct {
	cfg *edgeConfig
	log *slog.Logger

	cache   *edge.Cache
	reports *delivery.ViewReporter
	http    *http.Server
	ln      net.Listener
	wg      sync.WaitGroup
}

// Start starts the cache and begins listening.
func (n *edgeNode) Start() error {
	n.cache = &edge.Cache{
		Origins:  n.cfg.originURLs,
		MaxBytes: int64(n.cfg.CacheSize),
		Log:      n.log,
	}

	if err := n.startRules(); err != nil {
		return err
	}

	if err := n.cache.Start(); err != nil {
		n.stopReports()
		return err
	}

	ln, err := net.Listen("tcp", n.cfg.HTTP)
	if err != nil {
		n.cache.Close()
		n.stopReports()
		return fmt.Errorf("--http: %w", err)
	}

	n.ln = ln

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.Handle("/", n.cache.Handler())

	n.http = &http.Server{Handler: mux, ErrorLog: slog.NewLogLogger(
		n.log.With("component", "http").Handler(), slog.LevelWarn)}

	n.wg.Add(1)
	go func() {
		defer n.wg.Done()

		if err := n.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("http server stopped", "error", err)
		}
	}()

	n.log.Info("listening", "http", ln.Addr().String(), "origins", strings.Join(n.cfg.Origins, ","))

	return nil
}

// Shutdown stops accepting, lets open requests finish within ctx, then closes
// the cache.
func (n *edgeNode) Shutdown(ctx context.Context) error {
	err := n.http.Shutdown(ctx)
	n.wg.Wait()

	return errors.Join(err, n.cache.Close(), n.stopReports())
}

// runEdge runs `onair edge` until a signal arrives and returns the exit code.
func runEdge(args []string) int {
	cfg, err := loadEdgeConfig(args, os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}

	if err != nil {
		fmt.Fprintf(os.Stderr, "onair edge: %v\n", err)
		return 2
	}

	log := newLogger(&config{LogLevel: cfg.LogLevel, LogFormat: cfg.LogFormat})
	n := &edgeNode{cfg: cfg, log: log}

	if err := n.Start(); err != nil {
		log.Error("start failed", "error", err)
		return 1
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	s := <-sig
	log.Info("shutting down", "signal", s.String())

	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()

	if err := n.Shutdown(ctx); err != nil {
		log.Error("shutdown", "error", err)
		return 1
	}

	log.Info("stopped")

	return 0
}
