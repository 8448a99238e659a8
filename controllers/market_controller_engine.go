package controllers

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
	"github.com/monkonomy/monkonomy/market/protocol"
)

// annotationConfig carries the hash of the market's settings on the engine's pod
// template, so that a change of the game restarts the engine with the new settings.
const annotationConfig = "game.monkonomy.dev/config"

// secretKey names a key of a Secret; an empty Name means no Secret.
type secretKey struct{ Name, Key string }

// reconcileRedisSecret gives the engine the admin password of its Redis: the Secret the
// Market names, or a copy of the operator's own password in a Secret the Market owns
// (a pod can only read Secrets of its own namespace).
func (r *MarketReconciler) reconcileRedisSecret(ctx context.Context, m *v1alpha1.Market) (secretKey, error) {
	if rs := m.Spec.Redis; rs != nil && rs.Address != "" {
		if rs.SecretRef == nil {
			return secretKey{}, nil
		}
		return secretKey{Name: rs.SecretRef.Name, Key: rs.SecretRef.Key}, nil
	}
	if r.Redis.Default.Password == "" {
		return secretKey{}, nil
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: engineRedisName(m), Namespace: m.Namespace, Labels: engineLabels(m)},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{passwordKey: []byte(r.Redis.Default.Password)},
	}
	if _, _, err := applyAndRecord(ctx, r.Client, r.Scheme, r.Recorder, m, s, nil); err != nil {
		return secretKey{}, err
	}
	return secretKey{Name: s.Name, Key: passwordKey}, nil
}

// reconcileConfig writes the engine's settings file and returns its hash.
func (r *MarketReconciler) reconcileConfig(ctx context.Context, m *v1alpha1.Market) (string, error) {
	file, hash, err := renderSettings(m)
	if err != nil {
		return "", withReason("InvalidSettings", err)
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: engineName(m), Namespace: m.Namespace, Labels: engineLabels(m)},
		Data:       map[string]string{settingsKey: file},
	}
	_, _, err = applyAndRecord(ctx, r.Client, r.Scheme, r.Recorder, m, cm, nil)
	return hash, err
}

// marketImage is the image of a market's engine, and of its strategy traders, so that
// both speak the same protocol.
func marketImage(m *v1alpha1.Market, operatorImage string) string {
	if m.Spec.Engine.Image != "" {
		return m.Spec.Engine.Image
	}
	return operatorImage
}

// marketRedisAddr is the Redis address a market's pods use.
func marketRedisAddr(m *v1alpha1.Market, pool *RedisPool) string {
	if rs := m.Spec.Redis; rs != nil && rs.Address != "" {
		return rs.Address
	}
	return pool.Default.Addr
}

// engineDeployment is the desired engine Deployment: one replica, replaced rather than
// rolled (two engines of one market would only wait on each other's lease).
func engineDeployment(m *v1alpha1.Market, image, redisAddr, configHash string, password secretKey) *appsv1.Deployment {
	labels := engineLabels(m)
	res := withDefaultResources(m.Spec.Engine.Resources, engineResources)
	c := corev1.Container{
		Name:  "engine",
		Image: image,
		Args: []string{"engine", "--market", marketOf(m).String(),
			"--config", configDir + "/" + settingsKey, "--http", ":" + strconv.Itoa(enginePort)},
		Env:       append([]corev1.EnvVar{envValue(envRedisAddr, redisAddr)}, goMemLimit(res)...),
		Ports:     []corev1.ContainerPort{{Name: "http", ContainerPort: enginePort, Protocol: corev1.ProtocolTCP}},
		Resources: res,
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")}},
			PeriodSeconds: 5,
		},
		VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: configDir, ReadOnly: true}},
	}
	if password.Name != "" {
		c.Env = append(c.Env, envSecret(envRedisPassword, password.Name, password.Key))
	}
	hardenedContainer(&c)
	pod := corev1.PodSpec{
		NodeSelector: m.Spec.Engine.NodeSelector,
		Tolerations:  m.Spec.Engine.Tolerations,
		Containers:   []corev1.Container{c},
		Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: engineName(m)},
		}}}},
	}
	hardenedPod(&pod)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: engineName(m), Namespace: m.Namespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: engineSelector(m)},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{annotationConfig: configHash}},
				Spec:       pod,
			},
		},
	}
}

// reconcileEngine writes the engine Deployment and returns it as stored, with its status.
func (r *MarketReconciler) reconcileEngine(ctx context.Context, m *v1alpha1.Market, configHash string, password secretKey) (*appsv1.Deployment, error) {
	d := engineDeployment(m, marketImage(m, r.Image), marketRedisAddr(m, r.Redis), configHash, password)
	stored, _, err := applyAndRecord(ctx, r.Client, r.Scheme, r.Recorder, m, d, nil)
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// engineService is the desired Service of the dashboard, its API and the metrics (all
// served on the engine's one HTTP port).
func engineService(m *v1alpha1.Market) *corev1.Service {
	typ := corev1.ServiceTypeClusterIP
	if dashboardEnabled(m) && m.Spec.Dashboard.ServiceType != "" {
		typ = m.Spec.Dashboard.ServiceType
	}
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: engineName(m), Namespace: m.Namespace, Labels: engineLabels(m),
			Annotations: map[string]string{
				"prometheus.io/scrape": "true", "prometheus.io/port": strconv.Itoa(enginePort), "prometheus.io/path": "/metrics",
			},
		},
		Spec: corev1.ServiceSpec{
			Type:     typ,
			Selector: engineSelector(m),
			Ports: []corev1.ServicePort{{
				Name: "http", Port: enginePort, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP,
			}},
		},
	}
}

func dashboardEnabled(m *v1alpha1.Market) bool {
	return m.Spec.Dashboard.Enabled == nil || *m.Spec.Dashboard.Enabled
}

// reconcileService writes the engine's Service and returns it as stored.
func (r *MarketReconciler) reconcileService(ctx context.Context, m *v1alpha1.Market) (*corev1.Service, error) {
	keep := func(s, d *corev1.Service) {
		d.Spec.ClusterIP, d.Spec.ClusterIPs = s.Spec.ClusterIP, s.Spec.ClusterIPs
		for i := range d.Spec.Ports {
			for _, p := range s.Spec.Ports {
				if p.Name == d.Spec.Ports[i].Name && d.Spec.Type != corev1.ServiceTypeClusterIP {
					d.Spec.Ports[i].NodePort = p.NodePort
				}
			}
		}
	}
	stored, _, err := applyAndRecord(ctx, r.Client, r.Scheme, r.Recorder, m, engineService(m), keep)
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// dashboardURL is where people open the dashboard: the load balancer's address once it
// has one, else the Service's name inside the cluster.
func dashboardURL(m *v1alpha1.Market, svc *corev1.Service) string {
	if !dashboardEnabled(m) || svc == nil {
		return ""
	}
	port := strconv.Itoa(enginePort)
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if in.Hostname != "" {
			return "http://" + in.Hostname + ":" + port + "/"
		}
		if in.IP != "" {
			return "http://" + in.IP + ":" + port + "/"
		}
	}
	return "http://" + svc.Name + "." + svc.Namespace + ".svc:" + port + "/"
}

// phaseCommand decides which phase command, if any, brings the engine to what spec.suspend
// asks, given the phase the market last published. Keeping a pending market pending is
// left to the settings file, which the engine reads on start; a pending market whose
// running engine started suspended needs to be told to open.
func phaseCommand(suspend bool, phase v1alpha1.MarketPhase, engineRunning bool) protocol.PhaseCommand {
	switch {
	case suspend && phase == v1alpha1.MarketOpen:
		return protocol.PhasePause
	case !suspend && phase == v1alpha1.MarketPaused:
		return protocol.PhaseResume
	case !suspend && phase == v1alpha1.MarketPending && engineRunning:
		return protocol.PhaseOpen
	default:
		return ""
	}
}

// reconcileSuspend sends the engine a phase command when spec.suspend and the market's
// phase disagree, and looks again shortly: the command is idempotent, and the phase in the
// status follows the engine's next tick.
func (r *MarketReconciler) reconcileSuspend(ctx context.Context, m *v1alpha1.Market, engine *appsv1.Deployment) (ctrl.Result, error) {
	running := engineAvailable(engine).Status == metav1.ConditionTrue
	cmd := phaseCommand(m.Spec.Suspend, m.Status.Phase, running)
	if cmd == "" {
		return ctrl.Result{}, nil
	}
	c, _, err := r.Redis.clientFor(ctx, r.APIReader, m)
	if err != nil {
		return ctrl.Result{}, withReason("RedisUnavailable", err)
	}
	err = c.XAdd(ctx, &redis.XAddArgs{
		Stream: marketOf(m).Keys().Inbox(),
		Values: protocol.AppendInbox(nil, protocol.Inbox{Kind: protocol.InboxPhase, Phase: cmd}),
	}).Err()
	if err != nil {
		return ctrl.Result{}, withReason("RedisUnavailable", fmt.Errorf("send %q to the engine of market %s: %w", cmd, m.Name, err))
	}
	log.FromContext(ctx).Info("Sent phase command", "market", marketOf(m).String(), "command", cmd)
	reason := map[protocol.PhaseCommand]string{protocol.PhasePause: "Pausing", protocol.PhaseResume: "Resuming", protocol.PhaseOpen: "Opening"}[cmd]
	r.Recorder.Eventf(m, nil, corev1.EventTypeNormal, reason, "Suspend", "Asked the engine to %s the market (spec.suspend=%t)", cmd, m.Spec.Suspend)
	return ctrl.Result{RequeueAfter: 2 * time.Second}, nil
}
