package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"esign/internal/graphiql/graphiqltest"
	"esign/internal/testenv"
)

// TestGraphiQLRunsQueryAgainstServer opens the real server's GraphiQL page in headless Chromium (no
// internet: every asset comes from the binary) and runs a query with an API key typed into the
// headers pane.
func TestGraphiQLRunsQueryAgainstServer(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: not in -short")
	}
	s := startServer(t, embedded, nil)
	browser := testenv.Browser(t)
	ctx, cancel := context.WithTimeout(browser, 60*time.Second)
	defer cancel()
	result, err := graphiqltest.RunQuery(ctx, s.URL+"/graphiql/", s.writeKey.basic(),
		`{ viewer { __typename ... on Application { name } } }`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(result, `"__typename": "Application"`) || !strings.Contains(result, `"name": "e2e"`) {
		t.Errorf("result pane: %s", result)
	}
	// Without the key the same page shows the contract's error.
	result, err = graphiqltest.RunQuery(ctx, s.URL+"/graphiql/", "Basic bm86bm8=", `{ viewer { __typename } }`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(result, "Unauthorized access") {
		t.Errorf("result pane without a valid key: %s", result)
	}
}
