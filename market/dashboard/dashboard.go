// Package dashboard is the market's web page: price chart, leaderboard, gibb feed, clock and
// a box to post a gibb. The engine serves it; its assets are embedded in the binary.
package dashboard

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Handler serves the dashboard's page and assets.
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return http.FileServer(http.FS(sub))
}
