package main

import (
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(c *config) string
		wantErr string
	}{
		{
			name: "defaults from SPEC",
			check: func(c *config) string {
				if c.Data != "./onair-data" || c.HTTP != ":8080" || c.RTMP != ":1935" ||
					c.PublicURL != "http://localhost:8080" || c.IngestHost != "localhost" ||
					c.LogLevel != "info" {
					return "unexpected defaults"
				}

				return ""
			},
		},
		{
			name: "environment fills flags",
			env: map[string]string{"ONAIR_HTTP": ":9000", "ONAIR_PUBLIC_URL": "https://tv.example/",
				"ONAIR_API_TOKEN": "tok", "ONAIR_LOG_LEVEL": "debug"},
			check: func(c *config) string {
				if c.HTTP != ":9000" || c.PublicURL != "https://tv.example" ||
					c.IngestHost != "tv.example" || c.APIToken != "tok" || c.LogLevel != "debug" {
					return "environment not applied"
				}

				return ""
			},
		},
		{
			name: "flags win over the environment",
			args: []string{"--http", ":7000", "--ingest-host", "ingest.example"},
			env:  map[string]string{"ONAIR_HTTP": ":9000", "ONAIR_INGEST_HOST": "other"},
			check: func(c *config) string {
				if c.HTTP != ":7000" || c.IngestHost != "ingest.example" {
					return "flags did not win"
				}

				return ""
			},
		},
		{
			name: "public url follows --http when not given",
			args: []string{"--http", "127.0.0.1:9090"},
			check: func(c *config) string {
				if c.PublicURL != "http://127.0.0.1:9090" || c.IngestHost != "127.0.0.1" {
					return "public url not derived from --http"
				}

				return ""
			},
		},
		{
			name:  "empty rtmp disables it",
			args:  []string{"--rtmp", ""},
			check: func(c *config) string { return map[bool]string{false: "rtmp not off"}[c.RTMP == ""] },
		},
		{name: "bad public url", args: []string{"--public-url", "ftp://x"}, wantErr: "--public-url"},
		{name: "bad http address", args: []string{"--http", "8080"}, wantErr: "--http"},
		{name: "bad log level", env: map[string]string{"ONAIR_LOG_LEVEL": "loud"},
			wantErr: "--log-level"},
		{name: "bad hwaccel", args: []string{"--hwaccel", "magic"}, wantErr: "--hwaccel"},
		{name: "stray argument", args: []string{"extra"}, wantErr: "unexpected argument"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string { return tc.env[k] }
			c, err := loadConfig(tc.args, getenv, io.Discard)

			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one naming %q", err, tc.wantErr)
				}

				return
			}

			if err != nil {
				t.Fatal(err)
			}

			if msg := tc.check(c); msg != "" {
				t.Fatalf("%s: %+v", msg, c)
			}
		})
	}
}

func TestIdentityKeptInDataDirectory(t *testing.T) {
	dir := t.TempDir()
	first := &config{Data: dir}

	generated, err := identity(first)
	if err != nil || !generated {
		t.Fatalf("first start: generated %v, err %v", generated, err)
	}

	if len(first.AccountID) != 32 || len(first.APIToken) != 48 {
		t.Fatalf("account %q token length %d", first.AccountID, len(first.APIToken))
	}

	info, err := os.Stat(filepath.Join(dir, apiTokenFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, mode %v", err, info.Mode())
	}

	again := &config{Data: dir}
	generated, err = identity(again)
	same := again.AccountID == first.AccountID && again.APIToken == first.APIToken
	if err != nil || generated || !same {
		t.Fatalf("second start: generated %v, err %v, same identity %v", generated, err, same)
	}

	given := &config{Data: t.TempDir(), AccountID: "acc", APIToken: "tok"}
	if generated, _ := identity(given); generated || given.APIToken != "tok" {
		t.Fatal("a token given by flag was replaced")
	}
}

// TestFailedFirstStartKeepsNoUnseenToken: a first start that fails (its
// port taken) must not keep a token it never showed.
func TestFailedFirstStartKeepsNoUnseenToken(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	cfg := &config{Data: t.TempDir(), HTTP: busy.Addr().String(), RTMP: "127.0.0.1:0",
		HWAccel: "none", LogLevel: "info", LogFormat: "text"}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}

	n := &node{cfg: cfg, log: slog.New(slog.DiscardHandler)}
	if err := n.Start(); err == nil {
		t.Fatal("start on a busy port succeeded")
	}

	if _, err := os.Stat(filepath.Join(cfg.Data, apiTokenFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("token file after a failed first start: %v", err)
	}
}
