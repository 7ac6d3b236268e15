package certificate_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"esign/internal/i18n"
	"esign/internal/pdf/certificate"
	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pki/pkitest"
)

// nordicEvent is an event text whose letters only an embedded font with a /ToUnicode gives back.
const nordicEvent = "Åse Ødegård åbnede dokumentet"

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// sample is a certificate with two documents and signatories each with events events.
func sample(lang string, signatories, events int) certificate.Certificate {
	base := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
	c := certificate.Certificate{
		Language: lang, Timezone: "Europe/Copenhagen",
		OrderID: "b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d", Title: "Lejekontrakt for Ærøvej 7",
		CreatedAt: base, ClosedAt: base.Add(3 * time.Hour), Status: "CLOSED",
		IssuedAt: base.Add(3*time.Hour + time.Minute),
		Documents: []certificate.Document{
			{Title: "Lejekontrakt.pdf", ID: "doc-1", SHA256Original: hash("a1"), SHA256Signed: hash("a2"), Pages: 4},
			{Title: "Bilag 1 – husorden og vedligeholdelse", ID: "doc-2", SHA256Original: hash("b1"), SHA256Signed: hash("b2"), Pages: 12},
		},
		Events: []certificate.Event{
			{At: base, Text: "Order created"},
			{At: base.Add(3 * time.Hour), Text: "Order closed with 30 days' retention"},
		},
	}
	for i := range signatories {
		s := certificate.Signatory{
			Name: fmt.Sprintf("Signatory Næstved %d", i+1), Reference: fmt.Sprintf("ref-%d", i+1), Role: "SIGNER", Status: "SIGNED",
			Evidence: []string{"MitID (urn:grn:authn:dk:mitid:substantial)", "Name shown: Åse Ødegård", "Claims: name, birthdate, uuid"},
		}
		for k := range events {
			s.Events = append(s.Events, certificate.Event{At: base.Add(time.Duration(k) * time.Minute),
				Text: fmt.Sprintf("event %d of signatory %d", k, i+1), IP: "203.0.113.7",
				UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"})
		}
		c.Signatories = append(c.Signatories, s)
	}
	if signatories > 0 {
		c.Signatories[0].Name = "Åse Ødegård"
		c.Signatories[0].Events = append(c.Signatories[0].Events, certificate.Event{At: base.Add(time.Hour), Text: nordicEvent, IP: "2001:db8::1", UserAgent: "Firefox"})
	}
	return c
}

func render(t testing.TB, c certificate.Certificate) []byte {
	t.Helper()
	data, err := certificate.Render(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func tool(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: apt-get install poppler-utils", name)
	}
	return bin
}

func tempPDF(t testing.TB, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "certificate.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// pdftotext is poppler's extraction of data's text, args before the file.
func pdftotext(t testing.TB, data []byte, args ...string) string {
	t.Helper()
	out, err := exec.Command(tool(t, "pdftotext"), append(args, tempPDF(t, data), "-")...).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

func pdfinfo(t testing.TB, data []byte) string {
	t.Helper()
	out, err := exec.Command(tool(t, "pdfinfo"), tempPDF(t, data)).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	return string(out)
}

func pageCount(t testing.TB, data []byte) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindStringSubmatch(pdfinfo(t, data))
	if m == nil {
		t.Fatal("pdfinfo reports no page count")
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func squeeze(s string) string { return strings.Join(strings.Fields(s), "") }

func TestRenderShowsEverythingInTheOrdersLanguage(t *testing.T) {
	for _, tc := range []struct {
		lang, htmlLang, page string
	}{
		{"EN_US", "en", "Page %d of %d"},
		{"DA_DK", "da", "Side %d af %d"},
		{"FI_FI", "fi", "Sivu %d / %d"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			c := sample(tc.lang, 2, 3)
			data := render(t, c)
			pdftest.QPDFCheck(t, data)
			text := pdftotext(t, data)
			flat := squeeze(text)
			tr := i18n.T(tc.lang)
			n := pageCount(t, data)
			want := []string{tr("certificate.title"), tr("certificate.orderEvents"), c.Title, c.OrderID, nordicEvent,
				fmt.Sprintf(tc.page, 1, n), fmt.Sprintf(tc.page, n, n),
				"2025-03-04T13:00:00+01:00", // created, in the order's zone with its offset
				"Order closed with 30 days' retention", "MitID (urn:grn:authn:dk:mitid:substantial)", "Chrome/131.0.0.0", "2001:db8::1"}
			for _, s := range c.Signatories {
				want = append(want, s.Name, s.Reference)
			}
			for _, w := range want {
				if !strings.Contains(text, w) {
					t.Errorf("pdftotext lacks %q:\n%s", w, text)
				}
			}
			for _, d := range c.Documents {
				for _, h := range []string{d.SHA256Original, d.SHA256Signed} {
					if !strings.Contains(flat, h) {
						t.Errorf("pdftotext lacks the hash %s of %s", h, d.Title)
					}
				}
			}
			info := pdfinfo(t, data)
			title := regexp.MustCompile(`(?m)^Title:\s+(.*)$`).FindStringSubmatch(info)
			if !regexp.MustCompile(`(?m)^PDF version:\s+1\.7$`).MatchString(info) || title == nil || title[1] != tr("certificate.title")+" · "+c.Title {
				t.Errorf("pdfinfo:\n%s", info)
			}
			if !bytes.Contains(data, []byte("/Lang ("+tc.htmlLang+")")) {
				t.Errorf("no /Lang (%s) in the catalog", tc.htmlLang)
			}
			if bytes.Contains(data, []byte("/Encrypt")) || bytes.Contains(data, []byte("/Sig")) {
				t.Error("the certificate must be a plain unsigned PDF")
			}
		})
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	c := sample("SV_SE", 3, 10)
	first, second := render(t, c), render(t, c)
	if !bytes.Equal(first, second) {
		t.Fatal("the same certificate rendered to different bytes")
	}
	c.Signatories[1].Events[2].IP = "198.51.100.1"
	if bytes.Equal(first, render(t, c)) {
		t.Fatal("a changed event rendered to the same bytes")
	}
}

func TestManyEventsFlowOverPages(t *testing.T) {
	few := render(t, sample("EN_US", 1, 20))
	many := sample("EN_US", 1, 200)
	data := render(t, many)
	pdftest.QPDFCheck(t, data)
	n, nFew := pageCount(t, data), pageCount(t, few)
	if n <= nFew || n < 3 {
		t.Fatalf("%d pages for 200 events, %d for 20: want the events to flow over more pages", n, nFew)
	}
	text := pdftotext(t, data)
	for _, w := range []string{fmt.Sprintf("Page 2 of %d", n), fmt.Sprintf("Page %d of %d", n, n), "event 0 of signatory 1", "event 199 of signatory 1", nordicEvent} {
		if !strings.Contains(text, w) {
			t.Errorf("pdftotext lacks %q", w)
		}
	}
	// Every event is there once; the table header is repeated on every page the table goes on.
	if got := strings.Count(text, "of signatory 1"); got != 200 {
		t.Errorf("%d event rows extracted, want 200", got)
	}
	if got := strings.Count(text, "IP address and user agent"); got < n-1 {
		t.Errorf("the events header appears %d times over %d pages", got, n)
	}
}

// wordBox is a word pdftotext -bbox found, in points from the top left.
var wordBox = regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>`)

func TestLongTextsWrapInsideThePage(t *testing.T) {
	c := sample("NB_NO", 2, 2)
	long := strings.Repeat("AppleWebKit/537.36(KHTML,likeGecko)", 12) // 420 characters without a space
	c.Signatories[1].Events[0].UserAgent = long
	c.Documents[0].Title = strings.Repeat("Overenskomst-", 20)
	c.Documents[0].SHA256Original = strings.Repeat(hash("x"), 3) // wider than its column: breaks inside
	c.Signatories[1].Evidence = append(c.Signatories[1].Evidence, strings.Repeat("claim_name_", 60))
	c.Title = strings.Repeat("Et svært langt ordrenavn med æøå ", 8)
	// An event row taller than a page: set as flowing lines over several pages.
	tall := strings.Repeat("Lang hændelsestekst ", 1200)
	c.Signatories[0].Events[1].Text = tall
	data := render(t, c)
	pdftest.QPDFCheck(t, data)
	if n := pageCount(t, data); n < 6 {
		t.Errorf("%d pages; the tall event alone needs more than five", n)
	}
	flat := squeeze(pdftotext(t, data))
	for _, w := range []string{long, c.Documents[0].SHA256Original, squeeze(c.Title), c.Signatories[1].Evidence[3]} {
		if !strings.Contains(flat, squeeze(w)) {
			t.Errorf("pdftotext lacks %q (whitespace removed)", w)
		}
	}
	// The tall text goes over pages, with running heads and footers between its lines: every
	// word of it is there.
	if n := strings.Count(flat, "hændelsestekst"); n != 1200 {
		t.Errorf("the tall event's words were extracted %d times, want 1200", n)
	}
	boxes := wordBox.FindAllStringSubmatch(pdftotext(t, data, "-bbox"), -1)
	if len(boxes) < 100 {
		t.Fatalf("pdftotext -bbox found %d words", len(boxes))
	}
	for _, b := range boxes {
		x0, _ := strconv.ParseFloat(b[1], 64)
		y0, _ := strconv.ParseFloat(b[2], 64)
		x1, _ := strconv.ParseFloat(b[3], 64)
		y1, _ := strconv.ParseFloat(b[4], 64)
		// 48 pt margins on an A4 page (595 × 842 pt); half a point for rounding.
		if x0 < 47.5 || x1 > 595.28-47.5 || y0 < 20 || y1 > 841.89-20 {
			t.Errorf("word %q at x %.1f–%.1f, y %.1f–%.1f is outside the margins", b[5], x0, x1, y0, y1)
		}
	}
}

func TestRenderRefusesOverTheBounds(t *testing.T) {
	tooManyEvents := sample("EN_US", 0, 0)
	tooManyEvents.Events = make([]certificate.Event, certificate.MaxEvents+1)
	// The bound is on all events together: the order's and the signatories'.
	split := sample("EN_US", 2, 0)
	split.Events = make([]certificate.Event, 5000)
	split.Signatories[0].Events = make([]certificate.Event, 5000)
	split.Signatories[1].Events = make([]certificate.Event, 1)
	signatories := sample("EN_US", 0, 0)
	signatories.Signatories = make([]certificate.Signatory, certificate.MaxSignatories+1)
	documents := sample("EN_US", 0, 0)
	documents.Documents = make([]certificate.Document, certificate.MaxDocuments+1)
	text := sample("EN_US", 1, 0)
	text.Signatories[0].Evidence = []string{strings.Repeat("x", certificate.MaxTextBytes)}
	for _, tc := range []struct {
		name string
		c    certificate.Certificate
		want string
	}{
		{"10,001 order events", tooManyEvents, "10001 events, at most 10000"},
		{"10,001 events in all", split, "10001 events, at most 10000"},
		{"1,001 signatories", signatories, "1001 signatories, at most 1000"},
		{"51 documents", documents, "51 documents, at most 50"},
		{"8 MiB of text", text, "bytes of text, at most 8388608"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := certificate.Render(context.Background(), tc.c)
			if !errors.Is(err, certificate.ErrTooLarge) || !strings.Contains(err.Error(), tc.want) || data != nil {
				t.Fatalf("Render: %v (%d bytes); want ErrTooLarge saying %q", err, len(data), tc.want)
			}
		})
	}
	atBound := sample("EN_US", 1, 0)
	atBound.Events = make([]certificate.Event, certificate.MaxEvents-1)
	if _, err := certificate.Render(context.Background(), atBound); err != nil {
		t.Fatalf("10,000 events in all refused: %v", err)
	}
}

func TestRenderRefusesWhatItCannotShow(t *testing.T) {
	badZone := sample("EN_US", 1, 1)
	badZone.Timezone = "Europe/Atlantis"
	noIssue := sample("EN_US", 1, 1)
	noIssue.IssuedAt = time.Time{}
	for name, c := range map[string]certificate.Certificate{"unknown zone": badZone, "no issue time": noIssue} {
		if _, err := certificate.Render(context.Background(), c); err == nil || errors.Is(err, certificate.ErrTooLarge) {
			t.Errorf("%s: %v", name, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := certificate.Render(ctx, sample("EN_US", 2, 2)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestTimesAreInTheOrdersZone(t *testing.T) {
	c := sample("EN_US", 1, 1)
	c.Timezone = "America/New_York"
	c.Signatories[0].Events[0].At = time.Date(2025, 7, 1, 18, 30, 0, 0, time.UTC)
	utc := sample("EN_US", 1, 1)
	utc.Timezone = ""
	for _, tc := range []struct {
		c    certificate.Certificate
		want []string
	}{
		{c, []string{"2025-07-01T14:30:00-04:00", "2025-03-04T07:00:00-05:00", "America/New_York"}},
		{utc, []string{"2025-03-04T12:00:00+00:00", "UTC"}},
	} {
		text := pdftotext(t, render(t, tc.c))
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("zone %q: pdftotext lacks %q", tc.c.Timezone, w)
			}
		}
	}
}

func TestRenderedCertificateCanBeSigned(t *testing.T) {
	p := pkitest.New(t)
	key := pades.Key{Signer: p.Seal.Signer, Chain: p.Seal.Chain}
	doc := render(t, sample("DA_DK", 3, 4))
	signed, err := pades.Sign(context.Background(), doc, key, p.TSA, pades.Signature{Name: "esign", Reason: "Completion certificate", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(signed, doc) {
		t.Fatal("signing rewrote the certificate instead of appending to it")
	}
	pdftest.QPDFCheck(t, signed)
	report := pdfsig(t, p.CA.Cert.Raw, signed)
	if strings.Count(report, "Signature is Valid.") != 1 || !strings.Contains(report, "Certificate is Trusted.") || !strings.Contains(report, "Total document signed") {
		t.Fatalf("pdfsig:\n%s", report)
	}
	stamped, err := pades.DocumentTimestamp(context.Background(), signed, p.TSA)
	if err != nil {
		t.Fatal(err)
	}
	root := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.CA.Cert.Raw})
	pdftest.RequireOpenSSLValid(t, stamped, writeFile(t, root), 1, 1)
}

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// pdfsig runs poppler's validator with an NSS database trusting caDER.
func pdfsig(t *testing.T, caDER, data []byte) string {
	t.Helper()
	certutil, err := exec.LookPath("certutil")
	if err != nil {
		t.Fatal("certutil is not installed: apt-get install libnss3-tools")
	}
	dir := t.TempDir()
	caPEM := writeFile(t, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
	for _, args := range [][]string{{"-N", "-d", "sql:" + dir, "--empty-password"}, {"-A", "-d", "sql:" + dir, "-n", "ca", "-t", "CT,C,C", "-i", caPEM}} {
		if out, err := exec.Command(certutil, args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	out, _ := exec.Command(tool(t, "pdfsig"), "-nssdir", "sql:"+dir, tempPDF(t, data)).CombinedOutput()
	return string(out)
}

// TestFirstPageRasterises renders page 1 with pdftoppm: the page draws (ink in the header, the body
// and the footer band) and nothing draws in the side margins. CERTIFICATE_PNG=path keeps the image.
func TestFirstPageRasterises(t *testing.T) {
	data := render(t, sample("DA_DK", 3, 6))
	prefix := filepath.Join(t.TempDir(), "page")
	if out, err := exec.Command(tool(t, "pdftoppm"), "-png", "-r", "100", "-f", "1", "-l", "1", "-singlefile", tempPDF(t, data), prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(prefix + ".png")
	if err != nil {
		t.Fatal(err)
	}
	if keep := os.Getenv("CERTIFICATE_PNG"); keep != "" {
		if err := os.WriteFile(keep, raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	inked := func(x0, y0, x1, y1 int) int {
		n := 0
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				if r, g, bl, _ := img.At(x, y).RGBA(); r+g+bl < 3*0xe000 {
					n++
				}
			}
		}
		return n
	}
	// At 100 dpi the page is 827 × 1170 pixels; the margins are 48 pt, 66 pixels.
	if b.Dx() != 827 || b.Dy() != 1170 {
		t.Fatalf("page 1 is %v pixels, want A4 at 100 dpi", b)
	}
	head, body, foot := inked(66, 55, 761, 110), inked(66, 300, 761, 1000), inked(66, 1110, 761, 1135)
	margins := inked(0, 0, 60, b.Dy()) + inked(b.Dx()-60, 0, b.Dx(), b.Dy())
	if head < 500 || body < 5000 || foot < 100 || margins != 0 {
		t.Fatalf("inked pixels: header %d, body %d, footer %d, side margins %d", head, body, foot, margins)
	}
}
