package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/onair/onair/transcode"
)

// config is the settings of `onair serve`, filled in a fixed order: defaults,
// then ONAIR_* environment variables, then flags; then validated.
type config struct {
	Data       string
	HTTP       string
	RTMP       string
	RTMPS      string
	TLSCert    string
	TLSKey     string
	SRT        string
	PublicURL  string
	IngestHost string
	AccountID  string
	APIToken   string
	HWAccel    string
	LogLevel   string
	LogFormat  string

	// GeoIP and CountryHeader say where a viewer's country comes from.
	GeoIP         string
	CountryHeader string
}

// newFlagSet declares serve's flags over cfg, with SPEC §1 defaults.
func newFlagSet(cfg *config, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(out)

	fs.StringVar(&cfg.Data, "data", "./onair-data",
		"directory for the SQLite file, segments and generated keys")
	fs.StringVar(&cfg.HTTP, "http", ":8080", "address of the REST API and playback")
	fs.StringVar(&cfg.RTMP, "rtmp", ":1935", "address of RTMP ingest; empty disables")
	fs.StringVar(&cfg.RTMPS, "rtmps", ":1936", "address of RTMPS ingest and playback; empty disables")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "",
		"certificate file of RTMPS (default: self-signed, generated once in --data)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "key file of --tls-cert")
	fs.StringVar(&cfg.SRT, "srt", ":8890", "UDP address of SRT ingest and playback; empty disables")
	fs.StringVar(&cfg.PublicURL, "public-url", "",
		"base of the playback URLs the API returns (default: http://localhost:<port of --http>)")
	fs.StringVar(&cfg.IngestHost, "ingest-host", "",
		"host written into the ingest URLs the API returns (default: host of --public-url)")
	fs.StringVar(&cfg.AccountID, "account-id", "",
		"account this node serves (default: generated once, kept in --data)")
	fs.StringVar(&cfg.APIToken, "api-token", "",
		"bearer token of the REST API (default: generated once, kept in --data)")
	fs.StringVar(&cfg.HWAccel, "hwaccel", "auto", "video encoder: auto, none, nvenc, qsv or vaapi")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&cfg.LogFormat, "log-format", "text", "text or json")
	fs.StringVar(&cfg.GeoIP, "geoip", "",
		"MaxMind-format database (.mmdb) giving viewers' countries for analytics and token rules")
	fs.StringVar(&cfg.CountryHeader, "country-header", "",
		"trusted request header holding the viewer's country code, used without --geoip")

	return fs
}

// loadConfig reads the environment and args into a validated config.
func loadConfig(args []string, getenv func(string) string, out io.Writer) (*config, error) {
	cfg := &config{}
	fs := newFlagSet(cfg, out)

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

	if err := fs.Parse(args); err != nil {
		return nil, err
	}

	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	return cfg, cfg.validate()
}

// envName maps a flag name to its environment variable: --public-url is
// ONAIR_PUBLIC_URL.
func envName(flagName string) string {
	return "ONAIR_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (c *config) validate() error {
	if c.PublicURL == "" {
		c.PublicURL = defaultPublicURL(c.HTTP)
	}

	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--public-url %q: want an http or https URL with a host", c.PublicURL)
	}

	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.IngestHost == "" {
		c.IngestHost = u.Hostname()
	}

	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key: give both or neither")
	}

	for name, addr := range map[string]string{"--http": c.HTTP, "--rtmp": c.RTMP,
		"--rtmps": c.RTMPS, "--srt": c.SRT} {
		if addr == "" && name != "--http" {
			continue
		}

		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("%s %q: want host:port or :port", name, addr)
		}
	}

	if !slices.Contains(transcode.HWAccelChoices, c.HWAccel) {
		return fmt.Errorf("--hwaccel %q: want %s", c.HWAccel,
			strings.Join(transcode.HWAccelChoices, ", "))
	}

	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}

	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
	}

	return nil
}

// defaultPublicURL is where this machine's own browser reaches --http: the
// SPEC's http://localhost:8080 for the default address.
func defaultPublicURL(httpAddr string) string {
	host, port, err := net.SplitHostPort(httpAddr)
	if err != nil || port == "" || port == "0" {
		return "http://localhost:8080"
	}

	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}

	return "http://" + net.JoinHostPort(host, port)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
	}

	return l, nil
}

// newLogger builds the process's one logger from the config.
func newLogger(c *config) *slog.Logger {
	level, _ := parseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level}

	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}

	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
