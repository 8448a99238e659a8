package kubeplugin

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Join says what a team's Trader runs. Exactly one of Strategy, Script and Image is set.
type Join struct {
	Team      string
	Market    string
	Name      string // empty: made from the team's name
	Namespace string // empty: left out, kubectl's namespace applies
	Strategy  string
	Params    map[string]string
	Script    string
	Image     string
}

var notNameChars = regexp.MustCompile(`[^a-z0-9]+`)

// TraderName makes a Trader name from a team's name: lower-case letters, digits and '-',
// at most 56 characters, as the CRD accepts.
func TraderName(team string) string {
	n := notNameChars.ReplaceAllString(strings.ToLower(team), "-")
	if len(n) > 56 {
		n = n[:56]
	}
	return strings.Trim(n, "-")
}

// Manifest returns a commented Trader manifest, ready to edit and apply.
func (j Join) Manifest() (string, error) {
	if strings.TrimSpace(j.Team) == "" {
		return "", errors.New("--team is required: the name of your team on the leaderboard")
	}
	if j.Market == "" {
		return "", errors.New("--market is required: the name of the Market (`kubectl get markets`)")
	}
	kinds := 0
	for _, s := range []string{j.Strategy, j.Script, j.Image} {
		if s != "" {
			kinds++
		}
	}
	if kinds != 1 {
		return "", errors.New("choose exactly one of --strategy NAME (built-in), --script FILE (Starlark) or --image REF (your own container)")
	}
	name := j.Name
	if name == "" {
		name = TraderName(j.Team)
	}
	if name == "" {
		return "", fmt.Errorf("cannot make a Trader name from team %q: give one with --name", j.Team)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# The Trader of team %s in Market %s.\n", j.Team, j.Market)
	fmt.Fprintf(&b, "# Apply it with `kubectl apply -f FILE`; `kubectl get traders` shows how it does.\n")
	b.WriteString("apiVersion: game.monkonomy.dev/v1alpha1\nkind: Trader\nmetadata:\n")
	fmt.Fprintf(&b, "  name: %s\n", name)
	if j.Namespace != "" {
		fmt.Fprintf(&b, "  namespace: %s\n", j.Namespace)
	}
	b.WriteString("spec:\n")
	fmt.Fprintf(&b, "  market: %s\n", j.Market)
	fmt.Fprintf(&b, "  team: %s\n", strconv.Quote(j.Team))
	switch {
	case j.Strategy != "":
		b.WriteString("  strategy:\n    # `monkonomy trader --help` lists the built-in strategies and their parameters.\n")
		fmt.Fprintf(&b, "    builtin:\n      name: %s\n", j.Strategy)
		if len(j.Params) > 0 {
			b.WriteString("      params:\n")
			for _, k := range slices.Sorted(maps.Keys(j.Params)) {
				fmt.Fprintf(&b, "        %s: %s\n", k, strconv.Quote(j.Params[k]))
			}
		}
	case j.Script != "":
		b.WriteString("  strategy:\n    # Starlark: on_tick(tick, account, memory) returns this tick's orders.\n")
		b.WriteString("    script: |\n")
		for _, line := range strings.Split(strings.TrimRight(j.Script, "\n"), "\n") {
			if strings.TrimSpace(line) == "" {
				b.WriteString("\n")
				continue
			}
			fmt.Fprintf(&b, "      %s\n", line)
		}
	default:
		b.WriteString("  image:\n    # Your container gets the market's connection in MONKONOMY_* environment variables.\n")
		fmt.Fprintf(&b, "    name: %s\n", j.Image)
		b.WriteString("    pullPolicy: IfNotPresent\n")
	}
	b.WriteString("  # Every bot gets the same modest resources unless you ask for less.\n")
	b.WriteString("  resources:\n    limits:\n      cpu: 200m\n      memory: 128Mi\n")
	return b.String(), nil
}
