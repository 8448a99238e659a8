package kubeplugin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/monkonomy/monkonomy/market/protocol"
)

// EngineService is the name of the Service the operator creates for a Market's engine
// (controllers' engineName), and EnginePort the name of its port, which serves the
// dashboard and its API.
func EngineService(market string) string { return market + "-engine" }

// EnginePort is the name of the engine Service's port.
const EnginePort = "http"

// PostGibbDirect posts a gibb to the engine at engineURL, the dashboard's address
// (http://localhost:8080 behind a port-forward, or the Ingress), with the admin token when
// the engine has one. It returns the engine's answer.
func PostGibbDirect(ctx context.Context, engineURL, token string, g protocol.PostGibb) (string, error) {
	u, err := url.Parse(engineURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("--engine-url %q is not a URL such as http://localhost:8080", engineURL)
	}
	u = u.JoinPath("api", "gibbs")
	body, err := json.Marshal(g)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("post the gibb to %s: %w", u, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		msg, ok := engineMessage(answer)
		if !ok {
			msg = strings.TrimSpace(string(answer))
		}
		return "", engineRefused(resp.StatusCode, msg, "give the admin token with --token-file or MONKONOMY_ADMIN_TOKEN")
	}
	return strings.TrimSpace(string(answer)), nil
}

// PostGibbProxy posts a gibb to a Market's engine through the API server's service proxy
// (services/<market>-engine:http/proxy/api/gibbs), so that no port-forward is needed; the
// user's own credentials and RBAC (create on services/proxy) decide who may post.
func PostGibbProxy(ctx context.Context, cfg *rest.Config, ns, market string, g protocol.PostGibb) (string, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", fmt.Errorf("connect to the API server: %w", err)
	}
	body, err := json.Marshal(g)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	svc := EngineService(market)
	if _, err := cs.CoreV1().Services(ns).Get(ctx, svc, metav1.GetOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return "", fmt.Errorf("no engine Service %s in namespace %s: the operator creates it for Market %q; is the operator running? (kubectl get market %s -n %s)", svc, ns, market, market, ns)
		}
		return "", fmt.Errorf("read the engine Service %s/%s: %w", ns, svc, err)
	}
	var code int
	answer, err := cs.CoreV1().RESTClient().Post().
		Namespace(ns).Resource("services").Name(svc+":"+EnginePort).
		SubResource("proxy").Suffix("api", "gibbs").
		SetHeader("Content-Type", "application/json").
		Body(body).Do(ctx).StatusCode(&code).Raw()
	if err == nil {
		return strings.TrimSpace(string(answer)), nil
	}
	// The engine answers errors as {"error": "..."}; anything else is the API server's.
	if msg, ok := engineMessage(answer); code != 0 && ok {
		return "", engineRefused(code, msg, "the engine wants its admin token, which the API server's proxy does not pass on: "+
			"post with --engine-url (a port-forward or the Ingress) and --token-file or MONKONOMY_ADMIN_TOKEN")
	}
	if code == http.StatusServiceUnavailable || code == http.StatusBadGateway {
		return "", fmt.Errorf("the API server could not reach the engine of Market %s/%s (HTTP %d): is its engine pod ready? (kubectl get pods -n %s -l game.monkonomy.dev/market=%s)", ns, market, code, ns, market)
	}
	return "", fmt.Errorf("post the gibb through the API server: %w", err)
}

// engineMessage returns the message of the engine's error answer, {"error": "..."}.
func engineMessage(answer []byte) (string, bool) {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(answer, &e) != nil || e.Error == "" {
		return "", false
	}
	return e.Error, true
}

// engineRefused is the error for the engine's refusal; tokenHint says how to give the
// admin token when the engine asks for it.
func engineRefused(code int, msg, tokenHint string) error {
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("the engine refused the gibb (HTTP %d): %s: %s", code, tokenHint, msg)
	}
	return fmt.Errorf("the engine refused the gibb (HTTP %d): %s", code, msg)
}
