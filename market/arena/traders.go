package arena

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/trader/strategy"
)

// entrant is one trader of the arena: a built-in bot, a script, or a program of a team that
// joins from outside (External).
type entrant struct {
	Name     string
	Team     string
	Builtin  string
	Params   strategy.Params
	Script   string // path of a Starlark script
	External bool
	// Strategy plays a built-in bot or a script; nil for External.
	Strategy strategy.Strategy
}

// describe says what plays as this trader, for the banner.
func (e entrant) describe() string {
	switch {
	case e.External:
		return "your program (joins from outside)"
	case e.Script != "":
		return "script " + e.Script
	case len(e.Params) > 0:
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(e.Params)) {
			kv = append(kv, k+"="+e.Params[k])
		}
		return "built-in " + e.Builtin + " (" + strings.Join(kv, ", ") + ")"
	}
	return "built-in " + e.Builtin
}

// entrants lists every trader the options ask for, each with a unique valid name, and
// builds their strategies, so that a wrong parameter or script stops the arena before
// anything starts. A script's errors and prints go to o.Log, which Start always sets.
func entrants(o Options) ([]entrant, error) {
	var list []entrant
	names := map[string]bool{}
	unique := func(base string) string {
		name := base
		for i := 2; names[name]; i++ {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		names[name] = true
		return name
	}

	builtins := strategy.Names()
	for i := 0; i < o.Bots; i++ {
		b := builtins[i%len(builtins)]
		s, err := strategy.New(b, nil)
		if err != nil {
			return nil, err
		}
		name := unique(b)
		list = append(list, entrant{Name: name, Team: botTeam(b), Builtin: b, Strategy: s})
	}
	for _, spec := range o.Builtins {
		b, params, s, err := parseBuiltin(spec)
		if err != nil {
			return nil, err
		}
		name := unique(b)
		list = append(list, entrant{Name: name, Team: botTeam(b), Builtin: b, Params: params, Strategy: s})
	}
	for _, path := range o.Scripts {
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--script %s: %w", path, err)
		}
		s, err := strategy.LoadScript(path, src, strategy.ScriptOptions{
			Log: func(msg string) { o.Log.Info("Script says", "msg", msg) },
		})
		if err != nil {
			return nil, fmt.Errorf("--script %s: %w", path, err)
		}
		name := unique(nameFromFile(path))
		list = append(list, entrant{Name: name, Team: "Script " + name, Script: path, Strategy: s})
	}
	for _, name := range o.Joins {
		if err := protocol.ValidateName("trader", name); err != nil {
			return nil, fmt.Errorf("--join %s: %w", name, err)
		}
		if names[name] {
			return nil, fmt.Errorf("--join %s: a trader of that name already plays in this arena; choose another name", name)
		}
		names[name] = true
		list = append(list, entrant{Name: name, Team: name, External: true})
	}
	return list, nil
}

// parseBuiltin reads NAME[:k=v,k=v] and builds the strategy, checking its parameters.
func parseBuiltin(spec string) (string, strategy.Params, strategy.Strategy, error) {
	name, rest, _ := strings.Cut(spec, ":")
	name = strings.TrimSpace(name)
	params := strategy.Params{}
	if strings.TrimSpace(rest) != "" {
		p, err := strategy.ParseParams(strings.Split(rest, ","))
		if err != nil {
			return "", nil, nil, fmt.Errorf("--builtin %s: %w", spec, err)
		}
		params = p
	}
	s, err := strategy.New(name, params)
	if err != nil {
		return "", nil, nil, fmt.Errorf("--builtin %s: %w", spec, err)
	}
	return name, params, s, nil
}

// botTeam is the team shown for a built-in bot: "Bot classic".
func botTeam(builtin string) string { return "Bot " + builtin }

var notName = regexp.MustCompile(`[^a-z0-9-]+`)

// nameFromFile makes a trader name of a script's file name: "My Bot.star" → "my-bot".
func nameFromFile(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	name := strings.Trim(notName.ReplaceAllString(strings.ToLower(base), "-"), "-")
	if len(name) > 50 {
		name = strings.Trim(name[:50], "-")
	}
	if name == "" {
		name = "script"
	}
	return name
}
