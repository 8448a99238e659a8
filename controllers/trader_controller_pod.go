package controllers

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
)

// reconcileSecret keeps the trader's Redis credentials in a Secret it owns and returns the
// password. A password, once made, is kept: the running pod holds it. cacheBehind says
// that the Secret exists but the cache has not seen it yet, so it was left as it is.
func (r *TraderReconciler) reconcileSecret(ctx context.Context, t *v1alpha1.Trader, m *v1alpha1.Market) (password string, cacheBehind bool, err error) {
	var stored corev1.Secret
	key := client.ObjectKey{Namespace: t.Namespace, Name: traderSecretName(t)}
	err = r.Get(ctx, key, &stored)
	if err != nil && !apierrors.IsNotFound(err) {
		return "", false, fmt.Errorf("read the Redis credentials of trader %s: %w", t.Name, err)
	}
	password = string(stored.Data[passwordKey])
	if password == "" {
		if password, err = newPassword(); err != nil {
			return "", false, err
		}
	}
	// A new Trader's Secret is created without asking the API server first: one round
	// trip less for every Trader of a room.
	_, err = r.apply(ctx, t, traderSecret(t, m, r.Redis, password))
	if !apierrors.IsAlreadyExists(err) {
		return password, false, err
	}
	// The cache had not seen a Secret made a moment ago. Its password is the one the pod
	// uses: a new one would lock it out.
	if err := r.APIReader.Get(ctx, key, &stored); err != nil {
		return "", false, fmt.Errorf("read the Redis credentials of trader %s: %w", t.Name, err)
	}
	if password = string(stored.Data[passwordKey]); password == "" {
		return "", false, fmt.Errorf("secret %s of trader %s has no password: delete the Secret, then the trader's pod, and the operator makes both anew", key.Name, t.Name)
	}
	return password, true, nil
}

// traderSecret holds the Redis credentials of a trader's pod.
func traderSecret(t *v1alpha1.Trader, m *v1alpha1.Market, pool *RedisPool, password string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: traderSecretName(t), Namespace: t.Namespace, Labels: traderLabels(t)},
		Type:       corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			usernameKey: []byte(traderUser(traderMarket(t), t.Name)),
			passwordKey: []byte(password),
			"address":   []byte(marketRedisAddr(m, pool)),
		},
	}
}

// reconcileScript keeps an inline script in a ConfigMap the pod mounts read-only, and
// removes it when the trader no longer has one.
func (r *TraderReconciler) reconcileScript(ctx context.Context, t *v1alpha1.Trader) error {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: traderScriptName(t), Namespace: t.Namespace, Labels: traderLabels(t)},
	}
	if t.Spec.Strategy == nil || t.Spec.Strategy.Script == nil {
		// The cache says whether there is one to delete; most traders never had one.
		if err := r.Get(ctx, client.ObjectKeyFromObject(cm), &corev1.ConfigMap{}); apierrors.IsNotFound(err) {
			return nil
		}
		err := r.Delete(ctx, cm)
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete the script ConfigMap of trader %s: %w", t.Name, err)
		}
		return nil
	}
	cm.Data = map[string]string{scriptKey: *t.Spec.Strategy.Script}
	_, err := r.apply(ctx, t, cm)
	return err
}

// traderContainer is the trader's container: the team's image, or the monkonomy trader
// runtime with a strategy.
func traderContainer(t *v1alpha1.Trader, image, redisAddr string) corev1.Container {
	pm := traderMarket(t)
	secret := traderSecretName(t)
	c := corev1.Container{
		Name:      "trader",
		Resources: withDefaultResources(t.Spec.Resources, traderResources),
	}
	switch {
	case t.Spec.Image != nil:
		c.Image = t.Spec.Image.Name
		c.ImagePullPolicy = t.Spec.Image.PullPolicy
		c.Command = t.Spec.Image.Command
		c.Args = t.Spec.Image.Args
		c.Env = append(c.Env, t.Spec.Image.Env...)
	case t.Spec.Strategy != nil:
		c.Image = image
		c.Env = append(c.Env, goMemLimit(c.Resources)...)
		s := t.Spec.Strategy
		switch {
		case s.Builtin != nil:
			c.Args = []string{"trader", "--strategy", s.Builtin.Name}
			keys := make([]string, 0, len(s.Builtin.Params))
			for k := range s.Builtin.Params {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				c.Args = append(c.Args, "--param", k+"="+s.Builtin.Params[k])
			}
		default:
			c.Args = []string{"trader", "--script", scriptDir + "/" + scriptKey}
			c.VolumeMounts = []corev1.VolumeMount{{Name: "script", MountPath: scriptDir, ReadOnly: true}}
		}
	}
	c.Env = append(c.Env,
		envValue(envRedisAddr, redisAddr),
		envSecret(envRedisUsername, secret, usernameKey),
		envSecret(envRedisPassword, secret, passwordKey),
		envValue(envMarket, pm.String()),
		envValue(envTrader, t.Name),
		envValue(envKeyPrefix, pm.Keys().Prefix),
	)
	hardenedContainer(&c)
	return c
}

// traderDeployment is the desired Deployment of a trader: one pod, none when suspended.
func traderDeployment(t *v1alpha1.Trader, image, redisAddr string) *appsv1.Deployment {
	labels := traderLabels(t)
	pod := corev1.PodSpec{
		Containers:                    []corev1.Container{traderContainer(t, image, redisAddr)},
		TerminationGracePeriodSeconds: ptr.To[int64](10),
	}
	if s := t.Spec.Strategy; s != nil && (s.Script != nil || s.ScriptFrom != nil) {
		src := &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: traderScriptName(t)},
			Items:                []corev1.KeyToPath{{Key: scriptKey, Path: scriptKey}},
		}
		if s.ScriptFrom != nil {
			src.LocalObjectReference = s.ScriptFrom.LocalObjectReference
			src.Items = []corev1.KeyToPath{{Key: s.ScriptFrom.Key, Path: scriptKey}}
		}
		pod.Volumes = append(pod.Volumes, corev1.Volume{Name: "script", VolumeSource: corev1.VolumeSource{ConfigMap: src}})
	}
	hardenedPod(&pod)
	replicas := int32(1)
	if t.Spec.Suspend {
		replicas = 0
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: traderPodName(t), Namespace: t.Namespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: traderSelector(t)},
			// A trader holds no state worth a rolling update; two of one trader would
			// only share its order limit.
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: pod},
		},
	}
}

func (r *TraderReconciler) reconcileDeployment(ctx context.Context, t *v1alpha1.Trader, m *v1alpha1.Market) error {
	d := traderDeployment(t, marketImage(m, r.Image), marketRedisAddr(m, r.Redis))
	res, err := r.apply(ctx, t, d)
	switch res {
	case applyCreated:
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "CreatedDeployment", "Created",
			"Registered in market %s with Redis user %s; created Deployment %s", t.Spec.Market, traderUser(traderMarket(t), t.Name), d.Name)
	case applyUpdated:
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "UpdatedDeployment", "Updated", "Updated Deployment %s", d.Name)
	}
	return err
}

// traderNetworkPolicy lets a trader's pod reach Redis and DNS, and nothing else; nothing
// may reach the pod. Redis is named by port (and by address when it is an IP), because the
// operator does not know the labels of the Redis pods.
func traderNetworkPolicy(t *v1alpha1.Trader, redisAddr string) *networkingv1.NetworkPolicy {
	host, port := splitRedisAddr(redisAddr)
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	toRedis := networkingv1.NetworkPolicyEgressRule{
		Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: ptr.To(intstr.FromInt32(port))}},
	}
	if ip := net.ParseIP(host); ip != nil {
		bits := 32
		if ip.To4() == nil {
			bits = 128
		}
		toRedis.To = []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: ip.String() + "/" + strconv.Itoa(bits)}}}
	}
	dns := networkingv1.NetworkPolicyEgressRule{Ports: []networkingv1.NetworkPolicyPort{
		{Protocol: &udp, Port: ptr.To(intstr.FromInt32(53))},
		{Protocol: &tcp, Port: ptr.To(intstr.FromInt32(53))},
	}}
	return &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: traderPodName(t), Namespace: t.Namespace, Labels: traderLabels(t)},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: traderSelector(t)},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Egress:      []networkingv1.NetworkPolicyEgressRule{toRedis, dns},
		},
	}
}

// splitRedisAddr reads host and port from host:port or a redis:// URL; the port defaults
// to 6379.
func splitRedisAddr(addr string) (string, int32) {
	if u, err := url.Parse(addr); err == nil && u.Host != "" && (u.Scheme == "redis" || u.Scheme == "rediss") {
		addr = u.Host
	}
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 6379
	}
	port, err := strconv.ParseInt(p, 10, 32)
	if err != nil || port <= 0 {
		return host, 6379
	}
	return host, int32(port)
}

func (r *TraderReconciler) reconcileNetworkPolicy(ctx context.Context, t *v1alpha1.Trader, m *v1alpha1.Market) error {
	_, err := r.apply(ctx, t, traderNetworkPolicy(t, marketRedisAddr(m, r.Redis)))
	return err
}

// apply writes an owned object. Unlike a Market's, a Trader's objects get no event each:
// a room of 500 Traders would write thousands of events; reconcileDeployment tells the
// user once, when the trader's pod is first set up.
func (r *TraderReconciler) apply(ctx context.Context, t *v1alpha1.Trader, obj client.Object) (applyResult, error) {
	_, res, err := applyAndRecord(ctx, r.Client, r.Scheme, nil, t, obj, nil)
	return res, err
}
