package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestLoadEdgeConfig(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		origins []string
		size    int64
		http    string
		wantErr string
	}{
		{name: "defaults", args: []string{"--origin", "http://o1:8080"},
			origins: []string{"http://o1:8080"}, size: 256 << 20, http: ":8080"},
		{name: "repeated origins", args: []string{"--origin", "http://a", "--origin", "http://b"},
			origins: []string{"http://a", "http://b"}, size: 256 << 20, http: ":8080"},
		{name: "environment", env: map[string]string{"ONAIR_ORIGIN": "http://a, http://b",
			"ONAIR_CACHE_SIZE": "1GiB", "ONAIR_HTTP": ":9000"},
			origins: []string{"http://a", "http://b"}, size: 1 << 30, http: ":9000"},
		{name: "flags replace the environment", args: []string{"--origin", "http://c",
			"--cache-size", "64MB"}, env: map[string]string{"ONAIR_ORIGIN": "http://a",
			"ONAIR_CACHE_SIZE": "1GiB"}, origins: []string{"http://c"}, size: 64e6, http: ":8080"},
		{name: "plain bytes", args: []string{"--origin", "https://a", "--cache-size", "4096"},
			origins: []string{"https://a"}, size: 4096, http: ":8080"},
		{name: "no origin", wantErr: "--origin"},
		{name: "bad origin", args: []string{"--origin", "ftp://a"}, wantErr: "--origin"},
		{name: "origin without host", args: []string{"--origin", "http://"}, wantErr: "--origin"},
		{name: "bad size", args: []string{"--origin", "http://a", "--cache-size", "lots"},
			wantErr: "size"},
		{name: "zero size", args: []string{"--origin", "http://a", "--cache-size", "0MiB"},
			wantErr: "size"},
		{name: "bad size in env", env: map[string]string{"ONAIR_CACHE_SIZE": "-1"},
			wantErr: "ONAIR_CACHE_SIZE"},
		{name: "bad http", args: []string{"--origin", "http://a", "--http", "80"},
			wantErr: "--http"},
		{name: "bad log level", args: []string{"--origin", "http://a", "--log-level", "loud"},
			wantErr: "--log-level"},
		{name: "stray argument", args: []string{"--origin", "http://a", "x"},
			wantErr: "unexpected argument"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string { return tc.env[k] }
			c, err := loadEdgeConfig(tc.args, getenv, io.Discard)

			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one naming %q", err, tc.wantErr)
				}

				return
			}

			if err != nil {
				t.Fatal(err)
			}

			if !slices.Equal(c.Origins, tc.origins) || int64(c.CacheSize) != tc.size ||
				c.HTTP != tc.http || len(c.originURLs) != len(tc.origins) {
				t.Fatalf("got %+v, want origins %v size %d http %s", c, tc.origins, tc.size, tc.http)
			}
		})
	}
}

func TestEdgeNodeServes(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400, immutable")
		io.WriteString(w, "segment "+r.URL.Path)
	}))
	t.Cleanup(origin.Close)

	cfg, err := loadEdgeConfig([]string{"--origin", origin.URL, "--http", "127.0.0.1:0"},
		func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}

	n := &edgeNode{cfg: cfg, log: slog.New(slog.DiscardHandler)}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}

	base := "http://" + n.ln.Addr().String()

	cases := []struct {
		path, body, xcache string
	}{
		{"/healthz", "ok\n", ""},
		{"/in1/manifest/v/s/seg_1.m4s", "segment /in1/manifest/v/s/seg_1.m4s", "MISS"},
		{"/in1/manifest/v/s/seg_1.m4s", "segment /in1/manifest/v/s/seg_1.m4s", "HIT"},
	}

	for _, tc := range cases {
		resp, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}

		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()

		if resp.StatusCode != 200 || string(body) != tc.body || resp.Header.Get("X-Cache") != tc.xcache {
			t.Errorf("%s: %d %q X-Cache %q, want 200 %q %q", tc.path, resp.StatusCode, body,
				resp.Header.Get("X-Cache"), tc.body, tc.xcache)
		}
	}

	if err := n.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("edge still answers after Shutdown")
	}
}
