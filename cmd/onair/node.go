package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/onair/onair/analytics"
	"github.com/onair/onair/api"
	"github.com/onair/onair/delivery"
	"github.com/onair/onair/ingest/rtmp"
	"github.com/onair/onair/recording"
	"github.com/onair/onair/restream"
	"github.com/onair/onair/store"
	"github.com/onair/onair/transcode"
)

// Limits of the HTTP server's connections. There is no write timeout: a
// blocking LL-HLS reload or a long download is a legitimate slow answer.
const (
	httpHeaderTimeout = 10 * time.Second
	httpIdleTimeout   = 2 * time.Minute
)

// recordingsDir is the directory of the recordings in --data.
const recordingsDir = "recordings"

// node is one `onair serve` process: the store, the live inputs, the ingest
// listeners and the HTTP server, started in dependency order and stopped in
// the reverse one.
type node struct {
	cfg *config
	log *slog.Logger

	// tokenGenerated says the API token was created by this start.
	tokenGenerated bool

	// tokenFile is where the API token is kept, when it was not given.
	tokenFile string

	// headerTimeout replaces httpHeaderTimeout when set (tests).
	headerTimeout time.Duration

	// viewClock replaces the analytics clock when set (tests).
	viewClock func() time.Time

	// recordingStorage replaces the recordings directory in --data when set
	// (tests), and janitorInterval replaces the recordings janitor's.
	recordingStorage recording.Storage
	janitorInterval  time.Duration

	// reconnectWindow replaces defaultReconnectWindow when set; negative
	// means none (tests not about reconnecting).
	reconnectWindow time.Duration

	store      *store.Store
	hooks      *api.WebhookSender
	views      *analytics.Collector
	restream   *restream.Manager
	recordings *recordings

	// country finds a viewer's country; nil when none is configured.
	country func(*http.Request) string
	inputs  *inputs
	rtmp    *rtmp.Server
	http    *http.Server

	httpLn net.Listener
	rtmpLn net.Listener

	// ingest holds the RTMPS and SRT servers.
	ingest ingestListeners

	// encoder is the video encoder --hwaccel chose at start.
	encoder string

	wg sync.WaitGroup

	shutdownOnce sync.Once
	shutdownErr  error
}

// Start opens the data directory and the store and begins listening.
func (n *node) Start() error {
	if err := os.MkdirAll(n.cfg.Data, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}

	fromFile := n.cfg.APIToken == ""

	generated, err := identity(n.cfg)
	if err != nil {
		return fmt.Errorf("identity: %w", err)
	}

	n.tokenGenerated = generated
	if fromFile {
		n.tokenFile = filepath.Join(n.cfg.Data, apiTokenFile)
	}

	if err := n.open(); err != nil {
		if generated {
			forgetIdentity(n.cfg)
		}

		return err
	}

	return nil
}

// open opens the store, the components that hang on it and the live inputs,
// in that order, and begins listening. On failure it closes what it opened,
// in the reverse order.
func (n *node) open() (err error) {
	if n.encoder, err = probeHWAccel(n.cfg.HWAccel, n.log); err != nil {
		return err
	}

	n.store, err = store.Open(filepath.Join(n.cfg.Data, "onair.db"))
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}

	var opened []func()

	defer func() {
		if err != nil {
			for i := len(opened) - 1; i >= 0; i-- {
				opened[i]()
			}
		}
	}()

	opened = append(opened, func() { n.store.Close() })

	n.restream = newRestream(n.store, n.log)
	if err := n.restream.Start(); err != nil {
		return err
	}

	opened = append(opened, func() { n.restream.Close() })

	if err := n.startViews(); err != nil {
		return err
	}

	opened = append(opened, func() { n.views.Close() })

	n.hooks = &api.WebhookSender{Outbox: n.store, Log: n.log.With("component", "webhook")}
	if err := n.hooks.Start(); err != nil {
		return err
	}

	opened = append(opened, func() { n.hooks.Close() })

	storage := n.recordingStorage
	if storage == nil {
		storage = &recording.Dir{Root: filepath.Join(n.cfg.Data, recordingsDir)}
	}

	n.recordings = &recordings{store: n.store, storage: storage, interval: n.janitorInterval,
		downloads: filepath.Join(n.cfg.Data, downloadsDir), events: n.hooks,
		base: n.cfg.PublicURL, log: n.log.With("component", "recordings")}
	if err := n.recordings.Start(); err != nil {
		return err
	}

	opened = append(opened, func() { n.recordings.Close() })

	n.inputs = &inputs{store: n.store, log: n.log, encoder: n.encoder, events: n.hooks,
		restream: n.restream, recordings: n.recordings, window: n.reconnectWindow}
	if err := n.inputs.Start(); err != nil {
		return err
	}

	opened = append(opened, func() { n.inputs.Close() })

	return n.listen()
}

// listen opens the listeners first, so that every port is known before any
// URL is handed out, then serves them.
func (n *node) listen() error {
	var err error

	n.httpLn, err = net.Listen("tcp", n.cfg.HTTP)
	if err != nil {
		return fmt.Errorf("--http: %w", err)
	}

	if n.cfg.RTMP != "" {
		n.rtmpLn, err = net.Listen("tcp", n.cfg.RTMP)
		if err != nil {
			n.httpLn.Close()
			return fmt.Errorf("--rtmp: %w", err)
		}

		n.rtmp = &rtmp.Server{
			Directory: n.inputs,
			Log:       n.log,
			Protocol:  "rtmp",
		}

		if err := n.rtmp.Start(n.rtmpLn); err != nil {
			n.httpLn.Close()
			return fmt.Errorf("rtmp: %w", err)
		}
	}

	if err := n.ingest.start(n); err != nil {
		if n.rtmp != nil {
			n.rtmp.Close()
		}

		n.httpLn.Close()

		return err
	}

	n.http = &http.Server{
		Handler: n.handler(),
		// A client that never finishes its headers or idles forever must
		// not hold a file handle that publishers and players need.
		ReadHeaderTimeout: cmp.Or(n.headerTimeout, httpHeaderTimeout),
		IdleTimeout:       httpIdleTimeout,
		ErrorLog: slog.NewLogLogger(n.log.With("component", "http").Handler(),
			slog.LevelWarn),
	}

	n.wg.Add(1)
	go func() {
		defer n.wg.Done()

		if err := n.http.Serve(n.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("http server stopped", "error", err)
		}
	}()

	n.log.Info("listening", "http", n.httpLn.Addr().String(), "rtmp", addrString(n.rtmpLn),
		"rtmps", addrString(n.ingest.rtmpsLn), "srt", n.ingest.srtString(),
		"public_url", n.cfg.PublicURL)

	return nil
}

// handler routes the REST API, health checks and playback.
func (n *node) handler() http.Handler {
	a := &api.Server{
		Store:     n.store,
		AccountID: n.cfg.AccountID,
		Token:     n.cfg.APIToken,
		Log:       n.log.With("component", "api"),
		URLs: api.URLs{
			PublicURL:  n.cfg.PublicURL,
			IngestHost: n.cfg.IngestHost,
			RTMPPort:   portOf(n.rtmpLn),
			RTMPSPort:  n.ingest.rtmpsPort(),
			SRTPort:    n.ingest.srtPort,
		},
		Notify:   n.inputs,
		Live:     n.inputs,
		Outputs:  n.store,
		Restream: &outputRunner{m: n.restream, log: n.log},
		Videos:   n.recordings,
	}

	acc := newAccess(n.store, n.log.With("component", "access"))
	origin := &delivery.Origin{Presentations: n.inputs, Log: n.log.With("component", "delivery"),
		Guard:     &delivery.Guard{Access: acc, Country: n.country, EdgeToken: n.cfg.APIToken},
		Viewing:   n.views,
		Downloads: n.recordings, Still: transcode.Still}
	edges := &delivery.EdgeAPI{Token: n.cfg.APIToken, Access: acc, Viewing: n.views}

	mux := http.NewServeMux()
	mux.Handle("/client/v4/", a.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", &metrics{inputs: n.inputs, views: n.views})
	mux.Handle(delivery.EdgePath, edges.Handler())
	mux.Handle("/", origin.Handler())

	return mux
}

// Shutdown stops taking publishers, ends every broadcast so that playlists
// end cleanly, and closes the store, within ctx. Later calls return the
// first call's result.
func (n *node) Shutdown(ctx context.Context) error {
	n.shutdownOnce.Do(func() { n.shutdownErr = n.shutdown(ctx) })

	return n.shutdownErr
}

func (n *node) shutdown(ctx context.Context) error {
	done := make(chan struct{})

	go func() {
		defer close(done)

		if n.rtmp != nil {
			n.rtmp.Close()
		}

		n.ingest.close()
		n.inputs.Close()
		n.restream.Close()
		n.recordings.Close()
	}()

	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("broadcasts did not end in time: %w", ctx.Err())
	}

	err := n.http.Shutdown(ctx)
	n.wg.Wait()
	n.hooks.Close()
	err = errors.Join(err, n.views.Close())

	return errors.Join(err, n.store.Close())
}

// apiBaseURL is the address to reach the REST API of this process.
func (n *node) apiBaseURL() string {
	return n.cfg.PublicURL
}

func addrString(ln net.Listener) string {
	if ln == nil {
		return "off"
	}

	return ln.Addr().String()
}

// portOf returns the TCP port of a listener, or 0 when it is off.
func portOf(ln net.Listener) int {
	if ln == nil {
		return 0
	}

	_, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)

	return p
}
