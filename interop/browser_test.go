package interop_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests drive one headless Chromium per test binary, started
// by the first test that needs it, with a browser context (a tab with its
// own cookies) per test. Chromium trusts the test server's certificate by
// its public key (ignore-certificate-errors-spki-list, honoured with a
// user-data-dir of our own), nothing else: any other certificate error
// still fails the navigation.

// chromiumPaths are where the browser is looked for; TENANTRY_CHROMIUM
// overrides them.
var chromiumPaths = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"}

// step bounds each browser action: generous, so that a loaded machine
// does not fail a test, and far below the test binary's timeout.
const step = 30 * time.Second

var chromium struct {
	once    sync.Once
	ctx     context.Context // the browser's chromedp context
	cancel  func()
	dataDir string
	err     error
	skip    string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if chromium.cancel != nil {
		chromium.cancel()
	}
	if chromium.dataDir != "" {
		_ = os.RemoveAll(chromium.dataDir)
	}
	os.Exit(code)
}

// startChromium starts the shared browser, trusting the public key of the
// server at base (every tenantrytest server of the process shares it).
func startChromium(base string, roots *tls.Config) {
	exe := os.Getenv("TENANTRY_CHROMIUM")
	if exe == "" {
		for _, p := range chromiumPaths {
			if found, err := exec.LookPath(p); err == nil {
				exe = found
				break
			}
		}
	}
	if exe == "" {
		chromium.skip = "no Chromium found (set TENANTRY_CHROMIUM)"
		return
	}
	spki, err := serverSPKI(base, roots)
	if err != nil {
		chromium.err = err
		return
	}
	chromium.dataDir, err = os.MkdirTemp("", "tenantry-chromium-")
	if err != nil {
		chromium.err = err
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("headless", true),
		chromedp.UserDataDir(chromium.dataDir),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("ignore-certificate-errors-spki-list", spki),
		chromedp.WindowSize(900, 700),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	chromium.ctx = ctx
	chromium.cancel = func() { cancelCtx(); cancelAlloc() }
	// The first run starts the browser, which lives as long as ctx: no
	// timeout on it.
	chromium.err = chromedp.Do(ctx)
}

// serverSPKI returns the base64 SHA-256 of the public key of the
// certificate the server at base presents, as verified with roots.
func serverSPKI(base string, cfg *tls.Config) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	d := tls.Dialer{Config: cfg}
	ctx, cancel := context.WithTimeout(context.Background(), step)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return "", errors.New("the server presented no certificate")
	}
	sum := sha256.Sum256(certs[0].RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

// tab is a browser context of the shared Chromium for one test: its own
// cookies, closed when the test ends.
type tab struct {
	t   *testing.T
	e   *env
	ctx context.Context
}

// newTab opens a tab for e's test, starting Chromium if it is not yet.
func (e *env) newTab() *tab {
	e.t.Helper()
	chromium.once.Do(func() {
		startChromium(e.base, &tls.Config{RootCAs: e.srv.RootCAs(), MinVersion: tls.VersionTLS12})
	})
	switch {
	case chromium.skip != "" && os.Getenv("TENANTRY_REQUIRE_BROWSER") != "":
		e.t.Fatalf("%s (TENANTRY_REQUIRE_BROWSER is set: the browser tests must run)", chromium.skip)
	case chromium.skip != "":
		e.t.Skip(chromium.skip)
	case chromium.err != nil:
		e.t.Fatalf("starting Chromium: %v", chromium.err)
	}
	ctx, cancel := chromedp.NewContext(chromium.ctx, chromedp.WithNewBrowserContext())
	e.t.Cleanup(cancel)
	b := &tab{t: e.t, e: e, ctx: ctx}
	// The tab lives as long as the context of its first run.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(900, 700)); err != nil {
		e.t.Fatalf("opening a tab: %v", err)
	}
	return b
}

// do runs actions, each step bounded, failing the test on error.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v (at %s)", what, err, b.location())
	}
}

// submit runs actions that load a new page (a click on a submit button)
// and waits until it has loaded.
func (b *tab) submit(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v (at %s)", what, err, b.location())
	}
}

// run runs an action that returns a value.
func run[T any](b *tab, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v (at %s)", what, err, b.location())
	}
	return v
}

// eval evaluates a JavaScript expression in the page (DevTools' own
// evaluation: it works when the page's scripts are disabled).
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	return run(b, "evaluating "+expr, chromedp.Evaluate[T](expr))
}

// location is the tab's URL, for failure messages.
func (b *tab) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "unknown location: " + err.Error()
	}
	return loc
}

// text is the trimmed text of the first node matching the CSS selector.
func (b *tab) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(run(b, "reading "+sel, chromedp.TextContent(chromedp.CSS(sel))))
}

// screenshot writes the page to docs/screenshots/name.png in the
// repository when TENANTRY_SCREENSHOTS=1, so that an ordinary run leaves
// the committed pictures alone.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	if os.Getenv("TENANTRY_SCREENSHOTS") != "1" {
		return
	}
	shot := run(b, "screenshot of "+name, chromedp.FullScreenshot(100))
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		b.t.Fatal(err)
	}
	var out bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, paletted(img)); err != nil {
		b.t.Fatal(err)
	}
	dir := filepath.Join("..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), out.Bytes(), 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// callback is a web app's redirect URI on the loopback interface: it
// records what each request to it carried (query or form) and answers a
// page with id "landed".
type callback struct {
	srv *httptest.Server
	got chan url.Values
}

func newCallback(t *testing.T) *callback {
	t.Helper()
	c := &callback{got: make(chan url.Values, 4)}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case c.got <- r.Form:
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="en"><title>Back at the app</title><h1 id="landed">Back at the app</h1></html>`)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// uri is the redirect URI the browser is sent to: http://localhost on
// the server's port, which matches a registered http://localhost/callback
// (loopback URIs match on any port).
func (c *callback) uri() string {
	u, _ := url.Parse(c.srv.URL)
	return "http://localhost:" + u.Port() + "/callback"
}

// next returns what the last request to the callback carried; the
// browser has shown the callback's page, so it has been recorded.
func (c *callback) next(t *testing.T) url.Values {
	t.Helper()
	select {
	case v := <-c.got:
		return v
	default:
		t.Fatal("nothing arrived at the redirect URI")
		return nil
	}
}

// Chromium trusts the test server's key and nothing else: a server with
// another certificate fails the navigation, so the tests do not run with
// certificate checks turned off.
func TestBrowserRefusesOtherCertificates(t *testing.T) {
	e := newEnv(t)
	b := e.newTab()
	other := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "untrusted") }))
	other.Config.ErrorLog = log.New(io.Discard, "", 0) // Chromium's refusal of the handshake
	other.StartTLS()
	defer other.Close()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Navigate(other.URL))
	var le *chromedp.LoadError
	if !errors.As(err, &le) || !strings.Contains(le.ErrorText, "CERT") {
		t.Fatalf("navigating to a server with an unknown certificate: %v, want a certificate error", err)
	}
	b.do("opening the device login page", chromedp.Navigate(e.base+"/devicelogin"), chromedp.WaitVisible(chromedp.ID("usercode")))
}

// paletted maps img to its 256 most frequent colours, the nearest for
// the rest: a page is a few colours and their anti-aliased edges, so the
// picture looks the same in a third of the bytes.
func paletted(img image.Image) *image.Paletted {
	counts := map[color.RGBA]int{}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			counts[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	colours := make([]color.RGBA, 0, len(counts))
	for c := range counts {
		colours = append(colours, c)
	}
	sort.Slice(colours, func(i, j int) bool {
		if counts[colours[i]] != counts[colours[j]] {
			return counts[colours[i]] > counts[colours[j]]
		}
		a, b := colours[i], colours[j]
		return uint32(a.R)<<24|uint32(a.G)<<16|uint32(a.B)<<8|uint32(a.A) < uint32(b.R)<<24|uint32(b.G)<<16|uint32(b.B)<<8|uint32(b.A)
	})
	pal := make(color.Palette, 0, 256)
	for _, c := range colours[:min(256, len(colours))] {
		pal = append(pal, c)
	}
	out := image.NewPaletted(r, pal)
	draw.Draw(out, r, img, r.Min, draw.Src)
	return out
}
