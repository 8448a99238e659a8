package dashboard

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestDashboardServesItsPageAndAssets(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	for path, contentType := range map[string]string{
		"/":           "text/html",
		"/app.js":     "javascript",
		"/style.css":  "text/css",
		"/banana.svg": "image/svg+xml",
	} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s = %s with %d bytes", path, res.Status, len(body))
		}
		if got := res.Header.Get("Content-Type"); !strings.Contains(got, contentType) {
			t.Errorf("GET %s: Content-Type %q, want %s", path, got, contentType)
		}
	}
}

// A room's network may have no way out: the page loads nothing from elsewhere, and it asks
// the engine with relative paths so that it also works behind a path prefix (a proxy).
func TestDashboardNeedsNothingFromTheInternet(t *testing.T) {
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|@import|` +
		`(fetch|getJSON|EventSource)\(\s*["'](https?:)?/`)
	err := fs.WalkDir(static, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(path)
		if err != nil {
			return err
		}
		if m := external.Find(b); m != nil {
			t.Errorf("%s loads from outside the engine, or by an absolute path: %q", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
