package api

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/onair/onair/analytics"
)

const viewsPath = "/client/v4/accounts/" + testAccount + "/stream/analytics/views"

func TestQueryViews(t *testing.T) {
	f := newFixture(t)
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

	err := f.store.AddViews(context.Background(), []analytics.Row{
		{Minute: base, UID: "v1", LiveInput: "in1", Creator: "c", Country: "GB",
			MediaSeconds: 120, Views: 2},
		{Minute: base.Add(time.Minute), UID: "v1", LiveInput: "in1", Creator: "c",
			Country: "FR", MediaSeconds: 30, Views: 1},
		{Minute: base.Add(2 * time.Hour), UID: "v2", LiveInput: "in1", Creator: "",
			Country: "GB", MediaSeconds: 60, Views: 1},
	})
	if err != nil {
		t.Fatal(err)
	}

	ask := func(q url.Values) []viewRowJSON {
		t.Helper()

		r := f.do("GET", viewsPath+"?"+q.Encode(), "", testToken)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", q.Encode(), r.status, r.raw)
		}

		var rows []viewRowJSON
		if err := json.Unmarshal(r.env.Result, &rows); err != nil {
			t.Fatal(err)
		}

		return rows
	}

	since, until := base.Add(-time.Hour).Format(time.RFC3339), base.Add(5*time.Hour).Format(
		time.RFC3339)

	day := ask(url.Values{"since": {since}, "until": {until}, "interval": {"day"}})
	if len(day) != 1 || day[0].MinutesViewed != 3.5 || day[0].Views != 4 {
		t.Errorf("day rows %+v, want 3.5 minutes and 4 views", day)
	}

	hours := ask(url.Values{"since": {since}, "until": {until}, "interval": {"hour"},
		"dimensions": {"uid,clientCountryName"}})
	if len(hours) != 3 || !hours[0].Time.Equal(base) || hours[0].Dimensions["uid"] != "v1" ||
		hours[2].Dimensions["clientCountryName"] != "GB" || hours[2].MinutesViewed != 1 {
		t.Errorf("hour rows %+v", hours)
	}

	if rows := ask(url.Values{"since": {since}, "until": {base.Format(time.RFC3339)}}); len(
		rows) != 0 {
		t.Errorf("until is exclusive, got %+v", rows)
	}

	bad := []url.Values{
		{"since": {base.Add(-32 * 24 * time.Hour).Format(time.RFC3339)},
			"until": {base.Format(time.RFC3339)}},
		{"since": {until}, "until": {since}},
		{"since": {"yesterday"}},
		{"interval": {"week"}},
		{"dimensions": {"uid,browser"}},
		{"dimensions": {"uid", "uid"}},
	}

	for _, q := range bad {
		if r := f.do("GET", viewsPath+"?"+q.Encode(), "", testToken); r.status != 400 {
			t.Errorf("%s: status %d, want 400", q.Encode(), r.status)
		}
	}
}
