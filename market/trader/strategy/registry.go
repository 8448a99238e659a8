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

// Param is one parameter of a built-in strategy, with the value it takes when not given.
type Param struct {
	Name    string
	Default string
}

// Builtin is a strategy of the registry.
type Builtin struct {
	Name   string
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
	r := &paramReader{params: p, defaults: map[string]string{}, used: map[string]bool{}}
	for _, d := range b.Params {
		r.defaults[d.Name] = d.Default
	}
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

// paramReader reads parameters, falling back to their declared defaults, and collects
// every error, so that a person sees all their mistakes at once.
type paramReader struct {
	params   Params
	defaults map[string]string // Param.Default by name
	used     map[string]bool
	errs     []string
}

// value is the parameter as given, or its declared default when it is missing or empty.
func (r *paramReader) value(name string) string {
	r.used[name] = true
	if v := r.params[name]; v != "" {
		return v
	}
	d, ok := r.defaults[name]
	if !ok {
		panic("strategy: parameter " + name + " is read but not declared")
	}
	return d
}

func (r *paramReader) fail(name, v, want string) {
	r.errs = append(r.errs, fmt.Sprintf("parameter %s=%q: %s", name, v, want))
}

// Int reads an integer of at least min.
func (r *paramReader) Int(name string, min int64) int64 {
	v := r.value(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min {
		r.fail(name, v, fmt.Sprintf("want a whole number of at least %d", min))
	}
	return n
}

// Uint reads a non-negative integer (a seed).
func (r *paramReader) Uint(name string) uint64 {
	v := r.value(name)
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		r.fail(name, v, "want a whole number of at least 0")
	}
	return n
}

// Fraction reads a number in [min, max] such as "0.01".
func (r *paramReader) Fraction(name string, min, max float64) float64 {
	v := r.value(name)
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < min || f > max {
		r.fail(name, v, fmt.Sprintf("want a number from %g to %g", min, max))
	}
	return f
}

// Coins reads an amount of coins with at most 6 decimals, at least 0.
func (r *paramReader) Coins(name string) rules.Micro {
	v := r.value(name)
	m, err := rules.ParseMicro(v)
	if err != nil || m < 0 {
		r.fail(name, v, "want an amount of coins of at least 0 with at most 6 decimals, such as 1.5")
	}
	return m
}

// Duration reads a Go duration of at least min, such as "1s".
func (r *paramReader) Duration(name string, min time.Duration) time.Duration {
	v := r.value(name)
	d, err := time.ParseDuration(v)
	if err != nil || d < min {
		r.fail(name, v, fmt.Sprintf("want a duration of at least %s, such as 1s or 500ms", min))
	}
	return d
}
