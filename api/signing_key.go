package api

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"time"

	"github.com/onair/onair/delivery"
	"github.com/onair/onair/store"
)

// Limits of playback tokens from /token.
const (
	// signingKeyBits is the size of every RSA key onair makes.
	signingKeyBits = 2048

	// defaultTokenLife is how long a token from /token plays when the body
	// sets no exp, as Cloudflare does.
	defaultTokenLife = time.Hour

	// maxTokenLife bounds exp in a /token body.
	maxTokenLife = 24 * time.Hour

	// maxAccessRules bounds accessRules in a /token body.
	maxAccessRules = 32
)

// SigningKeyStore keeps signing keys; *store.Store satisfies it. The key and
// token routes answer 404 when the Server's Store does not implement it.
type SigningKeyStore interface {
	AddSigningKey(ctx context.Context, publicPEM string) (*store.SigningKey, error)
	ListSigningKeys(ctx context.Context) ([]*store.SigningKey, error)
	DeleteSigningKey(ctx context.Context, id string) error
	OwnSigningKey(ctx context.Context,
		generate func() (publicPEM, privatePEM string, err error)) (*store.SigningKey, error)
}

// VideoChecker, when the Server's Store implements it, lets /token sign
// for videos as well as live inputs.
type VideoChecker interface {
	VideoExists(ctx context.Context, uid string) (bool, error)
}

// signingKeyJSON is a created key as Cloudflare returns it: the private key
// as base64 of its PEM and of its JWK. onair keeps only the public half.
type signingKeyJSON struct {
	ID      string    `json:"id"`
	PEM     string    `json:"pem,omitempty"`
	JWK     string    `json:"jwk,omitempty"`
	Created time.Time `json:"created"`
}

func (s *Server) keyStore() (SigningKeyStore, error) {
	ks, ok := s.Store.(SigningKeyStore)
	if !ok {
		return nil, notFound("signing keys are not kept by this node's store")
	}

	return ks, nil
}

func (s *Server) createSigningKey(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	ks, err := s.keyStore()
	if err != nil {
		return 0, nil, err
	}

	key, err := rsa.GenerateKey(rand.Reader, signingKeyBits)
	if err != nil {
		return 0, nil, fmt.Errorf("generate signing key: %w", err)
	}

	pub, priv, err := encodeKey(key)
	if err != nil {
		return 0, nil, err
	}

	k, err := ks.AddSigningKey(r.Context(), pub)
	if err != nil {
		return 0, nil, err
	}

	jwk, err := json.Marshal(privateJWK(k.ID, key))
	if err != nil {
		return 0, nil, err
	}

	s.logger().Info("signing key created", "key", k.ID)

	enc := base64.StdEncoding

	return http.StatusOK, signingKeyJSON{ID: k.ID, PEM: enc.EncodeToString([]byte(priv)),
		JWK: enc.EncodeToString(jwk), Created: k.Created}, nil
}

// encodeKey returns the PEM of key's public half (PKIX) and of the key
// (PKCS #1).
func encodeKey(key *rsa.PrivateKey) (string, string, error) {
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", fmt.Errorf("encode signing key: %w", err)
	}

	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY",
		Bytes: x509.MarshalPKCS1PrivateKey(key)})

	return string(pub), string(priv), nil
}

// privateJWK is key as a JSON Web Key (RFC 7517, RFC 7518 6.3).
func privateJWK(kid string, key *rsa.PrivateKey) map[string]string {
	b64 := func(n *big.Int) string { return base64.RawURLEncoding.EncodeToString(n.Bytes()) }
	key.Precompute()

	return map[string]string{
		"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": b64(key.N), "e": b64(big.NewInt(int64(key.E))), "d": b64(key.D),
		"p": b64(key.Primes[0]), "q": b64(key.Primes[1]),
		"dp": b64(key.Precomputed.Dp), "dq": b64(key.Precomputed.Dq),
		"qi": b64(key.Precomputed.Qinv),
	}
}

func (s *Server) listSigningKeys(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	ks, err := s.keyStore()
	if err != nil {
		return 0, nil, err
	}

	list, err := ks.ListSigningKeys(r.Context())
	if err != nil {
		return 0, nil, err
	}

	out := make([]signingKeyJSON, 0, len(list))
	for _, k := range list {
		out = append(out, signingKeyJSON{ID: k.ID, Created: k.Created})
	}

	return http.StatusOK, out, nil
}

func (s *Server) deleteSigningKey(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	ks, err := s.keyStore()
	if err != nil {
		return 0, nil, err
	}

	id := r.PathValue("id")

	err = ks.DeleteSigningKey(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("signing key %.64q not found", id)
	}

	if err != nil {
		return 0, nil, err
	}

	s.logger().Info("signing key deleted", "key", id)

	return http.StatusOK, nil, nil
}

// tokenRequest is the body of /token; every field is optional.
type tokenRequest struct {
	Exp         *int64                `json:"exp"`
	Nbf         *int64                `json:"nbf"`
	AccessRules []delivery.AccessRule `json:"accessRules"`
}

// tokenJSON is /token's result.
type tokenJSON struct {
	Token string `json:"token"`
}

// streamAction serves /stream/{uid}/{action}; only POST …/token is one. The
// route is that wide, and method-less, because a narrower one would overlap
// the live_inputs and keys routes in ServeMux.
func (s *Server) streamAction(w http.ResponseWriter, r *http.Request) (int, any, error) {
	if action := r.PathValue("action"); action != "token" {
		return 0, nil, notFound("no route for %.16s %.200s", r.Method, r.URL.Path)
	}

	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)

		return 0, nil, &apiError{http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			fmt.Sprintf("method %.16s not allowed on %.200s; allowed: POST", r.Method,
				r.URL.Path)}
	}

	return s.createToken(w, r)
}

// createToken signs a playback token for a live input or video with onair's
// own key.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) (int, any, error) {
	ks, err := s.keyStore()
	if err != nil {
		return 0, nil, err
	}

	uid := r.PathValue("uid")
	if err := s.checkPlayable(r.Context(), uid); err != nil {
		return 0, nil, err
	}

	claims, err := s.tokenClaims(w, r, uid)
	if err != nil {
		return 0, nil, err
	}

	own, err := ks.OwnSigningKey(r.Context(), generateKeyPEM)
	if err != nil {
		return 0, nil, err
	}

	key, err := parsePrivatePEM(own.PrivatePEM)
	if err != nil {
		return 0, nil, err
	}

	claims.KeyID = own.ID

	token, err := delivery.SignToken(key, *claims)
	if err != nil {
		return 0, nil, err
	}

	return http.StatusOK, tokenJSON{token}, nil
}

// checkPlayable answers 404 unless uid is a live input or a video.
func (s *Server) checkPlayable(ctx context.Context, uid string) error {
	_, err := s.Store.GetLiveInput(ctx, uid)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return err
	}

	if vc, ok := s.Store.(VideoChecker); ok {
		found, err := vc.VideoExists(ctx, uid)
		if err != nil || found {
			return err
		}
	}

	return notFound("no live input or video %.64q", uid)
}

// tokenClaims validates the body of /token into the claims to sign.
func (s *Server) tokenClaims(w http.ResponseWriter, r *http.Request,
	uid string) (*delivery.Claims, error) {
	body, err := readBody(w, r)
	if err != nil {
		return nil, err
	}

	var req tokenRequest

	err = eachField(body, func(name string, raw json.RawMessage) (err error) {
		switch name {
		case "exp":
			req.Exp, err = decodeField[int64](raw, name, "a Unix time in seconds")
		case "nbf":
			req.Nbf, err = decodeField[int64](raw, name, "a Unix time in seconds")
		case "accessRules":
			if json.Unmarshal(raw, &req.AccessRules) != nil {
				err = badRequest("field accessRules must be an array of rule objects " +
					"with type, action and, by type, ip or country")
			}
		default:
			err = badRequest("unknown field %.64q", name)
		}

		return err
	})
	if err != nil {
		return nil, err
	}

	now := time.Now()
	c := &delivery.Claims{Subject: uid, Expires: now.Add(defaultTokenLife).Unix(),
		AccessRules: req.AccessRules}

	if req.Exp != nil {
		if *req.Exp <= now.Unix() || *req.Exp > now.Add(maxTokenLife).Unix() {
			return nil, badRequest("exp %d: want a Unix time in the next %v", *req.Exp,
				maxTokenLife)
		}

		c.Expires = *req.Exp
	}

	if req.Nbf != nil {
		if *req.Nbf >= c.Expires {
			return nil, badRequest("nbf %d is not before exp %d", *req.Nbf, c.Expires)
		}

		c.NotBefore = *req.Nbf
	}

	if len(req.AccessRules) > maxAccessRules {
		return nil, badRequest("accessRules has %d rules; at most %d", len(req.AccessRules),
			maxAccessRules)
	}

	if err := delivery.CheckRules(req.AccessRules); err != nil {
		return nil, badRequest("%v", err)
	}

	return c, nil
}

// generateKeyPEM makes onair's own signing key.
func generateKeyPEM() (string, string, error) {
	key, err := rsa.GenerateKey(rand.Reader, signingKeyBits)
	if err != nil {
		return "", "", err
	}

	return encodeKey(key)
}

// parsePrivatePEM reads a PKCS #1 private key.
func parsePrivatePEM(s string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("own signing key: no PEM block")
	}

	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("own signing key: %w", err)
	}

	return key, nil
}
