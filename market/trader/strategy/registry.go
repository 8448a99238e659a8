package strategy

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/monkonomy/monkonomy/market/rules"
)

// Params are a strategy's settings as the operator writes them: name → value, both strings
// (a Trader's spec.strategy.builtin.params, or `--param k=v`).
type Params map[string]string

// Param documents one parameter of a built-in strategy.
type Param struct {
	Name    string
	Default string
	Help    string
}

// Builtin is a strategy of the registry.
type Builtin struct {
	Name   string
	Help   string
	Params []Param
	new    func(p *paramReader) Strategy
}

var registry = map[string]*Builtin{}

func register(b *Builtin) { registry[b.Name] = b }

// Names lists the built-in strategies in alphabetical order.
func Names() []string { return slices.Sorted(maps.Keys(registry)) }

// Lookup returns a built-in strategy's description.
func Lookup(name string) (*Builtin, bool) {
	b, ok := registry[name]
	return b, ok
}

// New returns a fresh built-in strategy with its parameters. Unknown names, unknown
// parameters and values that do not parse are errors that say what is accepted.
func New(name string, p Params) (Strategy, error) {
	b, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown strategy %q: choose one of %s", name, strings.Join(Names(), ", "))
	}
	r := &paramReader{strategy: name, params: p, used: map[string]bool{}}
	s := b.new(r)
	for _, k := range slices.Sorted(maps.Keys(p)) {
		if !r.used[k] {
			r.errs = append(r.errs, fmt.Sprintf("unknown parameter %q (known: %s)", k, b.paramNames()))
		}
	}
	if len(r.errs) > 0 {
		return nil, fmt.Errorf("strategy %s: %s", name, strings.Join(r.errs, "; "))
	}
	return s, nil
}

func (b *Builtin) paramNames() string {
	if len(b.Params) == 0 {
		return "none"
	}
	names := make([]string, len(b.Params))
	for i, p := range b.Params {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// ParseParams reads "k=v" pairs (as given to --param) into Params.
func ParseParams(pairs []string) (Params, error) {
	p := Params{}
	for _, kv := range pairs {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("parameter %q: write it as name=value", kv)
		}
		p[k] = strings.TrimSpace(v)
	}
	return p, nil
}

// paramReader reads parameters with defaults and collects every error, so that a person
// sees all their mistakes at once.
type paramReader struct {
	strategy string
	params   Params
	used     map[string]bool
	errs     []string
}

func (r *paramReader) raw(name string) (string, bool) {
	r.used[name] = true
	v, ok := r.params[name]
	return v, ok && v != ""
}

func (r *paramReader) fail(name, v, want string) {
	r.errs = append(r.errs, fmt.Sprintf("parameter %s=%q: %s", name, v, want))
}

// Int reads an integer of at least min.
func (r *paramReader) Int(name string, def, min int64) int64 {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min {
		r.fail(name, v, fmt.Sprintf("want a whole number of at least %d", min))
		return def
	}
	return n
}

// Uint reads a non-negative integer (a seed).
func (r *paramReader) Uint(name string, def uint64) uint64 {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		r.fail(name, v, "want a whole number of at least 0")
		return def
	}
	return n
}

// Fraction reads a number in [min, max] such as "0.01".
func (r *paramReader) Fraction(name string, def, min, max float64) float64 {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < min || f > max {
		r.fail(name, v, fmt.Sprintf("want a number from %g to %g", min, max))
		return def
	}
	return f
}

// Coins reads an amount of coins with at most 6 decimals, at least 0.
func (r *paramReader) Coins(name string, def rules.Micro) rules.Micro {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	m, err := rules.ParseMicro(v)
	if err != nil || m < 0 {
		r.fail(name, v, "want an amount of coins of at least 0 with at most 6 decimals, such as 1.5")
		return def
	}
	return m
}

// Duration reads a Go duration of at least min, such as "1s".
func (r *paramReader) Duration(name string, def, min time.Duration) time.Duration {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < min {
		r.fail(name, v, fmt.Sprintf("want a duration of at least %s, such as 1s or 500ms", min))
		return def
	}
	return d
}
