package testenv

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium package; chromedp's own search would also find other browsers,
// and tests should run the one CI installs.
const chromiumPath = "/usr/bin/chromium"

// chromium is the browser process shared by the tests of one test binary.
var chromium struct {
	once sync.Once
	ctx  context.Context // a chromedp context holding the browser; tabs are made from it
	err  error
}

// Browser returns a chromedp context for a new tab of a headless Chromium that is started once per
// test process and stopped by Run. Each call gets its own browser context (like a fresh incognito
// profile: no cookies, storage or cache shared with other tests), closed by t.Cleanup. When t has a
// deadline, the tab's context ends a little before it, so a stuck wait fails the test with an error
// instead of the whole binary timing out.
func Browser(t testing.TB) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatal("Chromium is not installed: apt-get install chromium")
	}
	chromium.once.Do(func() { chromium.ctx, chromium.err = startChromium() })
	if chromium.err != nil {
		t.Fatalf("start Chromium: %v", chromium.err)
	}

	parent := chromium.ctx
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if deadline, ok := d.Deadline(); ok {
			var cancel context.CancelFunc
			parent, cancel = context.WithDeadline(parent, deadline.Add(-5*time.Second))
			t.Cleanup(cancel)
		}
	}
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// Open the tab now, so that a browser problem fails here and not in the middle of a test.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open Chromium tab: %v", err)
	}
	return ctx
}

func startChromium() (context.Context, error) {
	// Without these flags Chromium keeps trying to reach the internet (updates, QUIC probes,
	// first-run pages), which this machine and CI do not have. Root needs --no-sandbox. chromedp
	// adds a fresh --user-data-dir in a temp folder and removes it when the browser stops.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 800),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	// The first Do starts the process; its life is bound to ctx, which only Run's cleanup ends.
	if err := chromedp.Do(ctx); err != nil {
		cancelBrowser()
		cancelAlloc()
		return nil, fmt.Errorf("run %s: %w", chromiumPath, err)
	}
	Cleanup(func() {
		cancelBrowser()
		cancelAlloc() // waits until the process is gone and its user data dir removed
	})
	return ctx, nil
}
