package arena

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/monkonomy/monkonomy/market/trader/strategy"
)

// artifacts is where tests leave what a person looks at: the dashboard's screenshots.
var artifacts = filepath.Join("..", "..", "test", "artifacts")

// browser starts a headless chromium for the test.
func browser(t *testing.T, width, height int) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if _, serr := os.Stat("/usr/bin/chromium"); serr != nil {
			t.Fatal("this test drives a real browser: install chromium: make setup")
		}
		path = "/usr/bin/chromium"
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.Headless, chromedp.WindowSize(width, height))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	return ctx
}

// waitFor polls a JavaScript expression in the page until it is truthy.
func waitFor[T any](t *testing.T, ctx context.Context, what, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("%s: %v\nthe page shows:\n%s", what, err, text)
	}
	return v
}

func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func TestDashboardShowsTheLiveMarketAndPostsAGibb(t *testing.T) {
	ctx := browser(t, 1920, 1080)
	actx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, _, _ := startArena(t, actx, fastArena(t, Options{Bots: len(strategy.Names())}))

	// The size of a projector's screen.
	do(t, ctx, "open the dashboard", chromedp.EmulateViewport(1920, 1080), chromedp.Navigate(a.URL()))
	waitFor[bool](t, ctx, "the connection indicator never said live",
		`document.querySelector('#conn').dataset.state === 'live' && document.querySelector('#conn-text').textContent === 'live'`)
	waitFor[bool](t, ctx, "the header never named the market and its phase",
		`document.querySelector('#market-name').textContent.includes('default/arena') && document.querySelector('#phase').textContent === 'open'`)

	// The price moves, tick after tick, and the chart draws it in banana yellow.
	first := waitFor[string](t, ctx, "no price shown",
		`(() => { const p = document.querySelector('#price').textContent; return /^[0-9]+\.[0-9]{4}$/.test(p) && p; })()`)
	waitFor[bool](t, ctx, "the price never changed from "+first,
		`document.querySelector('#price').textContent !== `+strconv.Quote(first))
	waitFor[bool](t, ctx, "the chart shows no price line", `(() => {
		const c = document.querySelector('#chart');
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		let yellow = 0;
		for (let i = 0; i < d.length; i += 4) if (d[i] > 220 && d[i+1] > 180 && d[i+2] < 110 && d[i+3] > 200) yellow++;
		return yellow > 200;
	})()`)

	// The leaderboard fills with every bot, ranked 1 to 5.
	waitFor[bool](t, ctx, "the leaderboard never showed the five bots", `(() => {
		const rows = [...document.querySelectorAll('#board-rows .row')];
		return rows.length === 5 && rows.map(r => r.querySelector('.c-rank').textContent).join() === '1,2,3,4,5';
	})()`)
	for _, name := range strategy.Names() {
		waitFor[bool](t, ctx, "bot "+name+" is not on the leaderboard",
			`!!document.querySelector('#board-rows .row[data-trader=`+strconv.Quote(name)+`] .c-score')`)
	}
	waitFor[bool](t, ctx, "nobody fed a monkey on the leaderboard",
		`[...document.querySelectorAll('#board-rows .c-fed')].some(c => Number(c.textContent) > 0)`)

	// A person posts a gibb through the page's box: it shows in the feed with its effect,
	// and the hype rises by 1.02 coins (102 points).
	do(t, ctx, "post a gibb",
		chromedp.SetValue(chromedp.ID("gibb-author"), "Ada"),
		chromedp.SendKeys(chromedp.ID("gibb-text"), "banana up good #mktd"),
		chromedp.Click(chromedp.ID("gibb-send")),
	)
	item := waitFor[string](t, ctx, "the gibb never showed in the feed", `(() => {
		const li = [...document.querySelectorAll('#feed li')].find(li => li.querySelector('.author').textContent === 'Ada');
		return li && li.innerText;
	})()`)
	for _, want := range []string{"banana up good #mktd", "+102 points", "hype"} {
		if !strings.Contains(item, want) {
			t.Errorf("the gibb in the feed does not show %q:\n%s", want, item)
		}
	}
	waitFor[bool](t, ctx, "the page did not confirm the gibb",
		`document.querySelector('#gibb-msg').className.includes('ok') && document.querySelector('#gibb-text').value === ''`)
	waitFor[bool](t, ctx, "the hype of the market never rose after the gibb",
		`Number(document.querySelector('#hype').textContent) >= 0.9`)

	// A gibb the market refuses shows the market's reason.
	do(t, ctx, "post a gibb that is too long",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#gibb-text').value = 'banana '.repeat(50)`),
		chromedp.Click(chromedp.ID("gibb-send")),
	)
	refusal := waitFor[string](t, ctx, "the refusal of a long gibb was not shown", `(() => {
		const m = document.querySelector('#gibb-msg');
		return m.className.includes('error') && m.textContent;
	})()`)
	if !strings.Contains(refusal, "280") {
		t.Errorf("the refusal %q does not give the limit of 280 characters", refusal)
	}
	do(t, ctx, "clear the box", chromedp.Evaluate[chromedp.Void](`document.querySelector('#gibb-text').value = ''`))

	// The dashboard's server goes away and comes back: the page says so, then reconnects
	// by itself and follows the market again.
	addr := a.listener.Addr().String()
	a.server.Close()
	waitFor[bool](t, ctx, "the connection indicator did not show the lost connection",
		`document.querySelector('#conn').dataset.state !== 'live'`)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	again := &http.Server{Handler: a.engine.Handler()}
	go again.Serve(l)
	defer again.Close()
	tick := waitFor[string](t, ctx, "no tick shown", `document.querySelector('#tick').textContent`)
	waitFor[bool](t, ctx, "the page did not reconnect and follow the market",
		`document.querySelector('#conn').dataset.state === 'live' && Number(document.querySelector('#tick').textContent) > `+tick)

	// Let the market play a while, so that the screenshot shows a chart worth looking at.
	waitFor[bool](t, ctx, "the market did not reach tick 90", `Number(document.querySelector('#tick').textContent) >= 90`)
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, "dashboard.png")
	do(t, ctx, "look at it as on a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	waitFor[bool](t, ctx, "the phone layout has no leaderboard rows", `document.querySelectorAll('#board-rows .row').length === 5`)
	shoot(t, ctx, "dashboard-phone.png")
}

func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(artifacts, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	t.Logf("screenshot: %s", abs)
}
