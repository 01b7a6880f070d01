package delivery

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onair/onair/analytics"
)

// recorded is a Viewing that keeps what it is told.
type recorded struct {
	mu   sync.Mutex
	reqs []analytics.Request
}

func (r *recorded) Record(req analytics.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.reqs = append(r.reqs, req)
}

func (r *recorded) LiveViewers(string) int { return 0 }

func TestEdgeAPI(t *testing.T) {
	_, _, keys := testKeys(t)
	acc := &rules{keys: keys, policies: map[string]Policy{
		"in1": {RequireSignedURLs: true, AllowedOrigins: []string{"*.example.com"},
			LiveInput: "in1", Creator: "c"}}}
	views := &recorded{}

	srv := httptest.NewServer((&EdgeAPI{Token: "secret", Access: acc, Viewing: views}).Handler())
	t.Cleanup(srv.Close)

	cases := []struct {
		name, method, path, token, body string
		want                            int
	}{
		{"no token", "GET", "policy/in1", "", "", 401},
		{"wrong token", "GET", "policy/in1", "nope", "", 401},
		{"policy", "GET", "policy/in1", "secret", "", 200},
		{"unknown uid", "GET", "policy/in2", "secret", "", 404},
		{"key", "GET", "key/a", "secret", "", 200},
		{"unknown key", "GET", "key/b", "secret", "", 404},
		{"views", "POST", "views", "secret", `[{"uid":"in1","session":"s","mediaSeconds":2}]`,
			204},
		{"bad views", "POST", "views", "secret", `{"uid":"in1"}`, 400},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+EdgePath+tc.path,
				strings.NewReader(tc.body))
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}

			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}

			resp.Body.Close()

			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}

	if len(views.reqs) != 1 || views.reqs[0].Media != 2*time.Second {
		t.Errorf("recorded %+v, want one view of 2 s", views.reqs)
	}

	// RemoteAccess reads the same answers.
	u, _ := url.Parse(srv.URL)
	ra := &RemoteAccess{Origins: []*url.URL{u}, Token: "secret"}

	if p, ok := ra.Policy("in1"); !ok || !p.RequireSignedURLs || p.Creator != "c" ||
		len(p.AllowedOrigins) != 1 {
		t.Errorf("remote policy %+v, %v", p, ok)
	}

	if _, ok := ra.Policy("in2"); ok {
		t.Error("remote policy of an unknown uid")
	}

	if k, ok := ra.PublicKey("a"); !ok || !k.Equal(&keyA.PublicKey) {
		t.Error("remote key a differs")
	}

	// Without the origin, unsigned playback is refused rather than opened.
	down := &RemoteAccess{Origins: []*url.URL{u}, Token: "wrong"}
	if p, ok := down.Policy("in3"); !ok || !p.RequireSignedURLs {
		t.Errorf("policy with the origin refusing: %+v, %v; want signed URLs required", p, ok)
	}
}
