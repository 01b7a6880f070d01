package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"
)

// jwt signs claims as an RS256 JWT, written here by hand rather than with
// onair's own signer.
func jwt(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()

	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": kid})
	payload, _ := json.Marshal(claims)
	signed := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signed))

	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}

	return signed + "." + enc.EncodeToString(sig)
}

// apiKey creates a signing key through the API and decodes its PEM.
func (n *testNode) apiKey(t *testing.T) (string, *rsa.PrivateKey) {
	t.Helper()

	var k struct {
		ID  string `json:"id"`
		PEM string `json:"pem"`
		JWK string `json:"jwk"`
	}

	if code := n.call(t, "POST", "/stream/keys", nil, &k); code != 200 {
		t.Fatalf("POST /stream/keys: status %d", code)
	}

	raw, err := base64.StdEncoding.DecodeString(k.PEM)
	if err != nil {
		t.Fatalf("pem is not base64: %v", err)
	}

	block, _ := pem.Decode(raw)
	if block == nil {
		t.Fatalf("pem %q has no PEM block", raw)
	}

	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}

	var jwk map[string]string
	if raw, err := base64.StdEncoding.DecodeString(k.JWK); err != nil ||
		json.Unmarshal(raw, &jwk) != nil || jwk["kid"] != k.ID || jwk["kty"] != "RSA" {
		t.Errorf("jwk %q is not the key's base64 JWK", k.JWK)
	}

	return k.ID, key
}

// status returns the status of a GET with optional headers.
func status(t *testing.T, url string, header map[string]string) int {
	t.Helper()

	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}

	resp.Body.Close()

	return resp.StatusCode
}

// waitStatus polls url until it answers want.
func waitStatus(t *testing.T, url string, header map[string]string, want int) {
	t.Helper()

	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if status(t, url, header) == want {
			return
		}

		time.Sleep(100 * time.Millisecond)
	}

	t.Fatalf("%s never answered %d (now %d)", url, want, status(t, url, header))
}

func TestSignedPlayback(t *testing.T) {
	n := startNode(t)

	var li liveInput
	if code := n.call(t, "POST", "/stream/live_inputs",
		map[string]any{"recording": map[string]any{"requireSignedURLs": true}}, &li); code != 200 {
		t.Fatalf("create: %d", code)
	}

	pub := startFFmpeg(t, "-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=6",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-f", "flv",
		n.rtmp+li.RTMP.StreamKey)
	t.Cleanup(func() { pub.cmd.Process.Kill() })
	n.waitState(t, li.UID, "connected")

	manifest := func(id string) string { return n.base + "/" + id + "/manifest/video.m3u8" }

	var issued struct {
		Token string `json:"token"`
	}

	if code := n.call(t, "POST", "/stream/"+li.UID+"/token", map[string]any{}, &issued); code != 200 {
		t.Fatalf("POST token: %d", code)
	}

	// Played through onair's token by a real reader: every segment URI is
	// under the token.
	mv := waitVariants(t, manifest(issued.Token), 1, 2)
	decodes(t, resolve(manifest(issued.Token), mv.variants[0].uri))

	kid, key := n.apiKey(t)
	now := time.Now().Unix()
	claims := func(extra map[string]any) map[string]any {
		c := map[string]any{"sub": li.UID, "kid": kid, "exp": now + 300}
		for k, v := range extra {
			c[k] = v
		}

		return c
	}

	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	good := jwt(t, key, kid, claims(nil))
	parts := strings.Split(good, ".")
	forged := jwt(t, key, kid, claims(map[string]any{"sub": strings.Repeat("0", 32)}))
	tampered := parts[0] + "." + strings.Split(forged, ".")[1] + "." + parts[2]

	cases := []struct {
		name string
		id   string
		want int
	}{
		{"bare uid", li.UID, 401},
		{"api key", good, 200},
		{"expired", jwt(t, key, kid, claims(map[string]any{"exp": now - 1})), 401},
		{"not yet valid", jwt(t, key, kid, claims(map[string]any{"nbf": now + 3600})), 401},
		{"tampered", tampered, 401},
		{"other key, same kid", jwt(t, other, kid, claims(nil)), 401},
		{"wrong subject", forged, 403},
		{"ip blocked", jwt(t, key, kid, claims(map[string]any{"accessRules": []any{
			map[string]any{"type": "ip.src", "action": "block", "ip": []string{"127.0.0.0/8"}},
		}})), 403},
		{"country not allowed", jwt(t, key, kid, claims(map[string]any{"accessRules": []any{
			map[string]any{"type": "ip.geoip.country", "action": "allow", "country": []string{"US"}},
			map[string]any{"type": "any", "action": "block"},
		}})), 403},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := status(t, manifest(tc.id), nil); got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
		})
	}

	t.Run("token for unknown uid", func(t *testing.T) {
		if code := n.call(t, "POST", "/stream/"+strings.Repeat("0", 32)+"/token", nil,
			nil); code != 404 {
			t.Errorf("status %d, want 404", code)
		}
	})

	t.Run("deleted key", func(t *testing.T) {
		if code := n.call(t, "DELETE", "/stream/keys/"+kid, nil, nil); code != 200 {
			t.Fatalf("DELETE key: %d", code)
		}

		waitStatus(t, manifest(good), nil, 401)
	})

	t.Run("allowed origins", func(t *testing.T) {
		if code := n.call(t, "PUT", "/stream/live_inputs/"+li.UID, map[string]any{
			"recording": map[string]any{"allowedOrigins": []string{"*.example.com"}}},
			nil); code != 200 {
			t.Fatalf("PUT: %d", code)
		}

		url := manifest(issued.Token)
		waitStatus(t, url, map[string]string{"Origin": "https://evil.test"}, 403)

		if got := status(t, url, map[string]string{"Origin": "https://www.example.com"}); got != 200 {
			t.Errorf("allowed origin: %d, want 200", got)
		}

		if got := status(t, url, map[string]string{"Referer": "https://evil.test/"}); got != 403 {
			t.Errorf("refused referer: %d, want 403", got)
		}
	})

	// The broadcast's recording keeps the input's rules of when it started.
	t.Run("recorded video", func(t *testing.T) {
		if err := pub.wait(t); err != nil {
			t.Fatalf("publisher: %v\n%s", err, pub.out.String())
		}

		v := n.waitVideos(t, li.UID, "ready", states("ready"))[0]

		var got struct {
			RequireSignedURLs bool `json:"requireSignedURLs"`
		}

		if code := n.call(t, "GET", "/stream/"+v.UID, nil, &got); code != 200 ||
			!got.RequireSignedURLs {
			t.Errorf("GET video: status %d, requireSignedURLs %v", code, got.RequireSignedURLs)
		}

		if code := status(t, manifest(v.UID), nil); code != 401 {
			t.Errorf("video by its uid: status %d, want 401", code)
		}

		var tok struct {
			Token string `json:"token"`
		}

		if code := n.call(t, "POST", "/stream/"+v.UID+"/token", map[string]any{},
			&tok); code != 200 {
			t.Fatalf("POST video token: %d", code)
		}

		mv := waitVariants(t, manifest(tok.Token), 1, 2)
		decodes(t, resolve(manifest(tok.Token), mv.variants[0].uri))
	})
}
