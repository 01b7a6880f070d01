package delivery

import (
	"crypto/rsa"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/onair/onair/packager"
)

// rules is an Access over maps.
type rules struct {
	policies map[string]Policy
	keys     KeyLookup
}

func (r *rules) Policy(uid string) (Policy, bool) {
	p, ok := r.policies[uid]
	return p, ok
}

func (r *rules) PublicKey(kid string) (*rsa.PublicKey, bool) {
	return r.keys(kid)
}

// guardedOrigin serves the ended presentation of newOrigin under three
// uids: "open", "signed" (requireSignedURLs) and "embed" (allowedOrigins).
func guardedOrigin(t *testing.T) string {
	t.Helper()

	_, p := newOrigin(t, true)
	_, _, keys := testKeys(t)

	acc := &rules{keys: keys, policies: map[string]Policy{
		"open":   {},
		"signed": {RequireSignedURLs: true},
		"embed":  {AllowedOrigins: []string{"*.example.com", "player.test"}},
	}}
	pres := &presentations{m: map[string]*packager.Presentation{
		"open": p, "signed": p, "embed": p}}

	o := &Origin{Presentations: pres, Guard: &Guard{Access: acc}}
	srv := httptest.NewServer(o.Handler())
	t.Cleanup(srv.Close)

	return srv.URL
}

func get(t *testing.T, url string, header map[string]string) (int, http.Header, string) {
	t.Helper()

	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	body, _ := io.ReadAll(resp.Body)

	return resp.StatusCode, resp.Header, string(body)
}

func TestGuardSignedURLs(t *testing.T) {
	base := guardedOrigin(t)
	a, b, _ := testKeys(t)
	exp := time.Now().Add(time.Hour).Unix()

	token := func(key *rsa.PrivateKey, c Claims) string { return sign(t, key, c) }

	cases := []struct {
		name string
		id   string
		want int
	}{
		{"open uid", "open", 200},
		{"signed uid without token", "signed", 401},
		{"token for signed", token(a, Claims{Subject: "signed", KeyID: "a", Expires: exp}), 200},
		{"token for open", token(a, Claims{Subject: "open", KeyID: "a", Expires: exp}), 200},
		{"expired", token(a, Claims{Subject: "signed", KeyID: "a", Expires: 1}), 401},
		{"expired for nothing", token(a, Claims{Subject: "nothing", KeyID: "a", Expires: 1}),
			401},
		{"unknown key", token(b, Claims{Subject: "signed", KeyID: "b"}), 401},
		{"unknown key for nothing", token(b, Claims{Subject: "nothing", KeyID: "b"}), 401},
		{"valid for nothing", token(a, Claims{Subject: "nothing", KeyID: "a"}), 403},
		{"blocked", token(a, Claims{Subject: "signed", KeyID: "a", AccessRules: []AccessRule{
			{Type: RuleIP, Action: ActionBlock, IP: []string{"127.0.0.0/8"}}}}), 403},
		{"blocked for nothing", token(a, Claims{Subject: "nothing", KeyID: "a",
			AccessRules: []AccessRule{{Type: RuleAny, Action: ActionBlock}}}), 403},
		{"country allowed elsewhere", token(a, Claims{Subject: "signed", KeyID: "a",
			AccessRules: []AccessRule{{Type: RuleCountry, Action: ActionAllow,
				Country: []string{"DE"}}, {Type: RuleAny, Action: ActionBlock}}}), 403},
		{"plain unknown uid", "nothing", 404},
	}

	bodies := map[int]string{}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := get(t, base+"/"+tc.id+"/manifest/video.m3u8", nil)
			if status != tc.want {
				t.Fatalf("status %d, want %d: %s", status, tc.want, body)
			}

			// Lifecycle follows the same rules.
			if lc, _, _ := get(t, base+"/"+tc.id+"/lifecycle", nil); tc.want != 404 &&
				lc != tc.want {
				t.Errorf("lifecycle status %d, want %d", lc, tc.want)
			}

			if status == 401 || status == 403 {
				if prev, ok := bodies[status]; ok && prev != body && tc.id != "signed" {
					t.Errorf("body %q differs from another %d's %q: a hint", body, status, prev)
				}

				if tc.id != "signed" {
					bodies[status] = body
				}
			}
		})
	}
}

func TestGuardSegmentsNeedToken(t *testing.T) {
	base := guardedOrigin(t)
	a, _, _ := testKeys(t)
	tok := sign(t, a, Claims{Subject: "signed", KeyID: "a"})

	_, _, body := get(t, base+"/"+tok+"/manifest/video.m3u8", nil)
	mv := firstURI(body)

	if status, _, _ := get(t, base+"/"+tok+"/manifest/"+mv, nil); status != 200 {
		t.Fatalf("media playlist under the token: %d", status)
	}

	if status, _, _ := get(t, base+"/signed/manifest/"+mv, nil); status != 401 {
		t.Errorf("media playlist under the bare uid: %d, want 401", status)
	}
}

// firstURI returns the first URI line of a playlist.
func firstURI(playlist string) string {
	for _, line := range strings.Split(playlist, "\n") {
		if line != "" && line[0] != '#' {
			return line
		}
	}

	return ""
}

func TestGuardAllowedOrigins(t *testing.T) {
	base := guardedOrigin(t)
	url := base + "/embed/manifest/video.m3u8"

	cases := []struct {
		name     string
		header   map[string]string
		want     int
		wantACAO string
	}{
		{"no origin (not a browser)", nil, 200, "*"},
		{"subdomain", map[string]string{"Origin": "https://www.example.com"}, 200,
			"https://www.example.com"},
		{"exact host with port", map[string]string{"Origin": "http://player.test:8080"}, 200,
			"http://player.test:8080"},
		{"apex of a wildcard", map[string]string{"Origin": "https://example.com"}, 403, ""},
		{"other site", map[string]string{"Origin": "https://evil.test"}, 403, ""},
		{"null origin", map[string]string{"Origin": "null"}, 403, ""},
		{"referer allowed", map[string]string{"Referer": "https://a.example.com/page"}, 200, "*"},
		{"referer refused", map[string]string{"Referer": "https://evil.test/x.example.com"},
			403, ""},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := get(t, url, tc.header)
			if status != tc.want {
				t.Fatalf("status %d, want %d: %s", status, tc.want, body)
			}

			if tc.wantACAO != "" && hdr.Get("Access-Control-Allow-Origin") != tc.wantACAO {
				t.Errorf("Access-Control-Allow-Origin %q, want %q",
					hdr.Get("Access-Control-Allow-Origin"), tc.wantACAO)
			}
		})
	}
}
