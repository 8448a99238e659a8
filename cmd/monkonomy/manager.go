package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2/textlogger"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/monkonomy/monkonomy/cmd/monkonomy/internal/kubeplugin"
	"github.com/monkonomy/monkonomy/controllers"
	"github.com/monkonomy/monkonomy/market/redisconn"
)

// defaultImage runs engines and strategy traders: the image of this very binary.
func defaultImage() string {
	tag := version
	if tag == "" || tag == "dev" {
		tag = "latest"
	}
	return "ghcr.io/monkonomy/monkonomy:" + tag
}

func newManagerCmd() *cobra.Command {
	var (
		redisAddr, passwordFile, image, metricsAddr, probeAddr, leaderNS string
		leaderElect                                                      bool
		verbosity, burst, workers                                        int
		qps, statusQPS                                                   float32
	)
	cmd := &cobra.Command{
		Use:   "manager",
		Short: "Run the Kubernetes operator of Markets and Traders",
		Long: `Run the operator: it starts an engine for every Market, gives every Trader its own Redis
user and pod, and writes ranks and scores into their status, so that 'kubectl get traders'
is the leaderboard.

The Redis admin password comes from --redis-password-file (a mounted Secret) or
MONKONOMY_REDIS_PASSWORD; the operator creates one restricted Redis user per Trader with it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctrl.SetLogger(textlogger.NewLogger(textlogger.NewConfig(textlogger.Verbosity(verbosity))))
			if redisAddr == "" {
				redisAddr = os.Getenv(redisconn.EnvAddr)
			}
			if redisAddr == "" {
				return errors.New("no Redis address: set --redis or MONKONOMY_REDIS_ADDR to the Redis that holds the markets")
			}
			password := os.Getenv(redisconn.EnvPassword)
			if passwordFile != "" {
				b, err := os.ReadFile(passwordFile)
				if err != nil {
					return fmt.Errorf("read the Redis admin password: %w (mount the Secret at --redis-password-file)", err)
				}
				password = strings.TrimSpace(string(b))
			}

			cfg, err := ctrl.GetConfig()
			if err != nil {
				return fmt.Errorf("find the Kubernetes API: %w (run in a cluster, or set KUBECONFIG)", err)
			}
			cfg.QPS, cfg.Burst = qps, burst
			mgr, err := ctrl.NewManager(cfg, ctrl.Options{
				Scheme:                  kubeplugin.Scheme(),
				Cache:                   controllers.CacheOptions(),
				Metrics:                 metricsserver.Options{BindAddress: metricsAddr},
				HealthProbeBindAddress:  probeAddr,
				LeaderElection:          leaderElect,
				LeaderElectionID:        "manager.game.monkonomy.dev",
				LeaderElectionNamespace: leaderNS,
				// The next leader need not wait for the lease to expire on a clean exit.
				LeaderElectionReleaseOnCancel: true,
			})
			if err != nil {
				return fmt.Errorf("create the manager: %w", err)
			}
			op, err := controllers.Setup(mgr, controllers.Options{
				Image:         image,
				Redis:         controllers.RedisTarget{Addr: redisAddr, Password: password},
				StatusQPS:     statusQPS,
				TraderWorkers: workers,
			})
			if err != nil {
				return err
			}
			defer op.Redis.Close()
			if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
				return err
			}
			if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
				return err
			}
			ctrl.Log.Info("Starting manager", "version", version, "redis", redisAddr, "image", image)
			return mgr.Start(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&redisAddr, "redis", "", "Redis address (host:port or redis://) holding the markets [$"+redisconn.EnvAddr+"]")
	f.StringVar(&passwordFile, "redis-password-file", "", "file holding the Redis admin password [$"+redisconn.EnvPassword+" holds the password itself]")
	f.StringVar(&image, "image", defaultImage(), "image that runs engines and strategy traders; a Market may name another in spec.engine.image")
	f.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "address of the metrics endpoint (0 turns it off)")
	f.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	f.BoolVar(&leaderElect, "leader-elect", true, "elect a leader, so that only one of several replicas acts")
	f.StringVar(&leaderNS, "leader-election-namespace", "", "namespace of the leader lease (default: the pod's own)")
	f.IntVar(&verbosity, "v", 0, "log verbosity: 0 logs what changed, higher numbers more detail")
	f.Float32Var(&qps, "kube-api-qps", controllers.DefaultAPIQPS, "requests per second to the Kubernetes API for reconciling, per kind of object (scores have their own budget: --status-qps)")
	f.IntVar(&burst, "kube-api-burst", controllers.DefaultAPIBurst, "burst of requests to the Kubernetes API for reconciling, per kind of object")
	f.Float32Var(&statusQPS, "status-qps", controllers.DefaultStatusQPS, "status writes per second for scores: first ranks go at once, then changed ranks and scores, then holdings, which wait in a big room")
	f.IntVar(&workers, "max-concurrent-reconciles", controllers.DefaultTraderWorkers, "Traders reconciled at once")
	return cmd
}
