// Package graphiqltest drives the GraphiQL page of package graphiql in a real browser, through a
// chromedp context (see testenv.Browser), as a person would: it fills the editors and clicks the
// run button. End-to-end tests use it to check that GraphiQL works against the real server.
package graphiqltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/chromedp/chromedp"
)

// Timeout bounds each wait on the page (GraphiQL starting, a query answering).
const Timeout = 30 * time.Second

// Selectors of GraphiQL 3's DOM. GraphiQL's editors are CodeMirror 5 instances; each editor's
// element has its instance in the property CodeMirror.
const (
	queryEditor    = ".graphiql-query-editor .CodeMirror"
	headersTab     = `.graphiql-editor-tools button[data-name="headers"]`
	visibleTool    = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
	responseEditor = ".graphiql-response .CodeMirror"
	executeButton  = ".graphiql-execute-button"
)

// Editors is the text of GraphiQL's editors.
type Editors struct {
	Query    string
	Headers  string
	Response string
}

// RunQuery opens the GraphiQL page at pageURL in the tab of ctx, replaces the headers editor's
// content with {"Authorization": authorization} and the query editor's with query, clicks the run
// button and returns the text of the result pane once the answer is there.
func RunQuery(ctx context.Context, pageURL, authorization, query string) (string, error) {
	if err := Open(ctx, pageURL); err != nil {
		return "", err
	}
	headers, err := json.MarshalIndent(map[string]string{"Authorization": authorization}, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode headers: %w", err)
	}
	if err := SetHeaders(ctx, string(headers)); err != nil {
		return "", err
	}
	if err := SetQuery(ctx, query); err != nil {
		return "", err
	}
	return Run(ctx)
}

// Open navigates to the GraphiQL page and waits until GraphiQL has rendered its editors. If it does
// not, the error holds the page's text, such as the "assets were not built" page.
func Open(ctx context.Context, pageURL string) error {
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		return fmt.Errorf("open %s: %w", pageURL, err)
	}
	// Ends as soon as GraphiQL has rendered its editors, or the page shows it will not: it is not the
	// GraphiQL page (the 503 page has no #graphiql) or its bootstrap script gave up.
	state := fmt.Sprintf(`(() => {
		if (document.querySelector(%s) && document.querySelector(%s) && document.querySelector(%s)) return 'ready';
		const root = document.getElementById('graphiql');
		if (document.readyState === 'complete' && (!root || root.dataset.state === 'failed')) return 'failed';
		return '';
	})()`, jsString(queryEditor), jsString(".graphiql-editor-tool .graphiql-editor .CodeMirror"), jsString(responseEditor))
	got, err := waitFor[string](ctx, state)
	if err == nil && got != "ready" {
		err = errors.New("GraphiQL is not on the page")
	}
	if err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
		return fmt.Errorf("GraphiQL did not start at %s: %w; the page says: %.500q", pageURL, err, text)
	}
	return nil
}

// SetHeaders shows the Headers tab and replaces the headers editor's content with headers.
func SetHeaders(ctx context.Context, headers string) error {
	if err := showHeaders(ctx); err != nil {
		return err
	}
	if err := setEditor(ctx, visibleTool, headers); err != nil {
		return fmt.Errorf("set headers: %w", err)
	}
	return nil
}

// SetQuery replaces the query editor's content with query, and waits until GraphiQL has parsed it:
// it reads the operation name to send from its parse, which runs 100 ms after a change.
func SetQuery(ctx context.Context, query string) error {
	// GraphiQL's change handler replaces the instance's operations (with a new array or null): a
	// marker array put there first tells when the handler ran for this change.
	set := fmt.Sprintf(`(() => {
		const cm = document.querySelector(%s).CodeMirror;
		if (cm.getValue() === %[2]s) return;
		window.graphiqltestMarker = [];
		cm.operations = window.graphiqltestMarker;
		cm.setValue(%[2]s);
	})()`, jsString(queryEditor), jsString(query))
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](set)); err != nil {
		return fmt.Errorf("set query: %w", err)
	}
	parsed := fmt.Sprintf(`document.querySelector(%s).CodeMirror.operations !== window.graphiqltestMarker`, jsString(queryEditor))
	if _, err := waitFor[bool](ctx, parsed); err != nil {
		return fmt.Errorf("wait for GraphiQL to parse the query: %w", err)
	}
	return nil
}

// Run clicks the run button and returns the text of the result pane once the answer is there.
func Run(ctx context.Context) (string, error) {
	// Empty the pane first, so that an earlier answer is not taken for this one.
	if err := setEditor(ctx, responseEditor, ""); err != nil {
		return "", fmt.Errorf("clear result pane: %w", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(executeButton))); err != nil {
		return "", fmt.Errorf("click run: %w", err)
	}
	// GraphiQL shows a spinner in the result pane while the request runs, and fills the pane when
	// the answer comes.
	answered := fmt.Sprintf(`(() => {
		const pane = document.querySelector('.graphiql-response');
		if (!pane || pane.querySelector('.graphiql-spinner')) return '';
		return pane.querySelector(%s).CodeMirror.getValue();
	})()`, jsString(responseEditor))
	result, err := waitFor[string](ctx, answered)
	if err != nil {
		return "", fmt.Errorf("wait for the result: %w", err)
	}
	return result, nil
}

// ReadEditors returns the text of the query, headers and result editors.
func ReadEditors(ctx context.Context) (Editors, error) {
	if err := showHeaders(ctx); err != nil {
		return Editors{}, err
	}
	read := fmt.Sprintf(`(() => {
		const value = (sel) => document.querySelector(sel).CodeMirror.getValue();
		return {Query: value(%s), Headers: value(%s), Response: value(%s)};
	})()`, jsString(queryEditor), jsString(visibleTool), jsString(responseEditor))
	e, err := chromedp.Run(ctx, chromedp.Evaluate[Editors](read))
	if err != nil {
		return Editors{}, fmt.Errorf("read editors: %w", err)
	}
	return e, nil
}

// showHeaders clicks the Headers tab under the query editor, as a person would to see the headers.
func showHeaders(ctx context.Context) error {
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(headersTab))); err != nil {
		return fmt.Errorf("open the Headers tab: %w", err)
	}
	visible := fmt.Sprintf(`!!document.querySelector(%s)`, jsString(visibleTool))
	if _, err := waitFor[bool](ctx, visible); err != nil {
		return fmt.Errorf("wait for the headers editor: %w", err)
	}
	return nil
}

// setEditor replaces the content of the CodeMirror editor at sel.
func setEditor(ctx context.Context, sel, value string) error {
	js := fmt.Sprintf(`document.querySelector(%s).CodeMirror.setValue(%s)`, jsString(sel), jsString(value))
	return chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](js))
}

// jsString quotes s as a JavaScript string literal (JSON strings are valid JavaScript).
func jsString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		// Marshaling a string cannot fail.
		panic(errors.Join(errors.New("graphiqltest: quote string"), err))
	}
	return string(b)
}

// waitFor evaluates the JavaScript expression every 50 ms until it gives a value other than T's zero
// value, and returns that value. It gives up after Timeout with the last error, if any: an
// evaluation can fail while the page loads.
func waitFor[T comparable](ctx context.Context, expression string) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	var zero T
	var lastErr error
	for {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression))
		if err == nil && v != zero {
			return v, nil
		}
		if err != nil && ctx.Err() == nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return zero, fmt.Errorf("not within %s: %w", Timeout, lastErr)
			}
			return zero, fmt.Errorf("not within %s", Timeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
