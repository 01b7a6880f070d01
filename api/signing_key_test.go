package api

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/onair/onair/delivery"
)

const streamPath = "/client/v4/accounts/" + testAccount + "/stream"

func TestSigningKeys(t *testing.T) {
	f := newFixture(t)

	k := decodeResult(t, f.do("POST", streamPath+"/keys", "", testToken))
	id, _ := k["id"].(string)

	raw, err := base64.StdEncoding.DecodeString(k["pem"].(string))
	if err != nil {
		t.Fatalf("pem: %v", err)
	}

	block, _ := pem.Decode(raw)
	if block == nil || !hex32.MatchString(id) {
		t.Fatalf("key %v: no PEM block or bad id", k)
	}

	priv, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}

	// The store keeps the public half only, and it matches.
	stored, err := f.store.SigningKey(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}

	pub, err := delivery.ParsePublicPEM(stored.PublicPEM)
	if err != nil || !pub.Equal(&priv.PublicKey) {
		t.Fatalf("stored public key does not match the returned private key: %v", err)
	}

	r := f.do("GET", streamPath+"/keys", "", testToken)
	if list := string(r.env.Result); !strings.Contains(list, id) || strings.Contains(list, "pem") {
		t.Errorf("list %s: want the id and no key material", list)
	}

	if r := f.do("DELETE", streamPath+"/keys/"+id, "", testToken); r.status != 200 {
		t.Fatalf("DELETE: %d", r.status)
	}

	if r := f.do("DELETE", streamPath+"/keys/"+id, "", testToken); r.status != 404 {
		t.Errorf("second DELETE: %d, want 404", r.status)
	}
}

func TestToken(t *testing.T) {
	f := newFixture(t)
	uid := f.create("")["uid"].(string)
	tokenPath := streamPath + "/" + uid + "/token"

	keys := func(kid string) (*rsa.PublicKey, bool) {
		k, err := f.store.SigningKey(context.Background(), kid)
		if err != nil {
			return nil, false
		}

		pub, err := delivery.ParsePublicPEM(k.PublicPEM)

		return pub, err == nil
	}

	now := time.Now()
	viewer := delivery.Viewer{Country: "XX"}

	for _, body := range []string{"", "{}", fmt.Sprintf(`{"exp": %d, "nbf": %d, "accessRules":
		[{"type": "ip.src", "action": "allow", "ip": ["10.0.0.0/8"]}]}`,
		now.Add(time.Hour).Unix(), now.Unix()-10)} {
		res := decodeResult(t, f.do("POST", tokenPath, body, testToken))

		c, err := delivery.VerifyToken(res["token"].(string), keys, now, viewer)
		if err != nil || c.Subject != uid || c.Expires <= now.Unix() {
			t.Errorf("body %q: token claims %+v, %v", body, c, err)
		}
	}

	bad := []struct {
		name, path, method, body string
		want                     int
	}{
		{"exp past", tokenPath, "POST", fmt.Sprintf(`{"exp": %d}`, now.Unix()-1), 400},
		{"exp too far", tokenPath, "POST", fmt.Sprintf(`{"exp": %d}`,
			now.Add(48*time.Hour).Unix()), 400},
		{"nbf after exp", tokenPath, "POST", fmt.Sprintf(`{"exp": %d, "nbf": %d}`,
			now.Unix()+60, now.Unix()+120), 400},
		{"unknown field", tokenPath, "POST", `{"pem": "x"}`, 400},
		{"bad rule", tokenPath, "POST", `{"accessRules": [{"type": "x", "action": "allow"}]}`, 400},
		{"bad range", tokenPath, "POST",
			`{"accessRules": [{"type": "ip.src", "action": "allow", "ip": ["10.0.0.0/99"]}]}`, 400},
		{"not an object", tokenPath, "POST", `[]`, 400},
		{"exp a string", tokenPath, "POST", `{"exp": "x"}`, 400},
		{"rules not an array", tokenPath, "POST", `{"accessRules": {"type": "any"}}`, 400},
		{"unknown uid", streamPath + "/" + strings.Repeat("0", 32) + "/token", "POST", "", 404},
		{"GET", tokenPath, "GET", "", 405},
		{"other action", streamPath + "/" + uid + "/nope", "POST", "", 404},
	}

	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(tc.method, tc.path, tc.body, testToken)
			if r.status != tc.want {
				t.Errorf("status %d, want %d: %s", r.status, tc.want, r.raw)
			}

			// Errors speak of fields, not of Go types.
			if strings.Contains(string(r.raw), "Go struct") {
				t.Errorf("error names Go internals: %s", r.raw)
			}
		})
	}
}
