package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestOwnSigningKey(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()

	var made atomic.Int32

	generate := func() (string, string, error) {
		n := made.Add(1)
		return "public" + string(rune('0'+n)), "private" + string(rune('0'+n)), nil
	}

	// Concurrent first calls agree on one key.
	const callers = 8

	ids := make([]string, callers)

	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			k, err := s.OwnSigningKey(ctx, generate)
			if err != nil {
				t.Error(err)
				return
			}

			ids[i] = k.ID
		})
	}

	wg.Wait()

	for _, id := range ids {
		if id != ids[0] || !hex32.MatchString(id) {
			t.Fatalf("own key ids %v, want one", ids)
		}
	}

	own, err := s.OwnSigningKey(ctx, generate)
	if err != nil || own.PrivatePEM == "" {
		t.Fatalf("own key %v, %v: want its private half", own, err)
	}

	// The own key verifies tokens but is neither listed nor deletable.
	if k, err := s.SigningKey(ctx, own.ID); err != nil || k.PublicPEM != own.PublicPEM ||
		k.PrivatePEM != "" {
		t.Errorf("SigningKey(own) = %v, %v", k, err)
	}

	user, err := s.AddSigningKey(ctx, "user-public")
	if err != nil {
		t.Fatal(err)
	}

	list, err := s.ListSigningKeys(ctx)
	if err != nil || len(list) != 1 || list[0].ID != user.ID {
		t.Errorf("list %v, %v: want only the account's key", list, err)
	}

	if err := s.DeleteSigningKey(ctx, own.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete own key: %v, want ErrNotFound", err)
	}

	if err := s.DeleteSigningKey(ctx, user.ID); err != nil {
		t.Fatal(err)
	}

	if _, err := s.SigningKey(ctx, user.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted key: %v", err)
	}
}

func TestWebhookOutbox(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()

	if queued, err := s.AddWebhookEvent(ctx, "a", []byte("0")); err != nil || queued {
		t.Fatalf("queued %v, %v with no webhook", queued, err)
	}

	if _, err := s.SetWebhook(ctx, "http://127.0.0.1:1/hook"); err != nil {
		t.Fatal(err)
	}

	for _, body := range []string{"1", "2", "3"} {
		if _, err := s.AddWebhookEvent(ctx, "a", []byte(body)); err != nil {
			t.Fatal(err)
		}
	}

	list, err := s.WebhookEvents(ctx, 10)
	if err != nil || len(list) != 3 || string(list[0].Body) != "1" || string(list[2].Body) != "3" {
		t.Fatalf("events %v, %v: want 1, 2, 3 in order", list, err)
	}

	if err := s.DeferWebhookEvent(ctx, list[0].ID, 2, list[0].Created); err != nil {
		t.Fatal(err)
	}

	if err := s.DeleteWebhookEvent(ctx, list[1].ID); err != nil {
		t.Fatal(err)
	}

	list, _ = s.WebhookEvents(ctx, 10)
	if len(list) != 2 || list[0].Attempts != 2 || string(list[1].Body) != "3" {
		t.Errorf("after defer and delete: %+v", list)
	}

	if err := s.DeleteWebhook(ctx); err != nil {
		t.Fatal(err)
	}

	if list, _ := s.WebhookEvents(ctx, 10); len(list) != 0 {
		t.Errorf("%d events left after the webhook was deleted", len(list))
	}
}
