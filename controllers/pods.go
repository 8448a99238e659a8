package controllers

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
)

// nonRootUID runs every container the operator starts, whatever USER the image names,
// so that a team's image built as root still runs as nobody in particular.
const nonRootUID = 65532

// hardenedPod is the pod-level security every engine and trader pod gets: no
// service-account token (they never talk to the Kubernetes API), non-root, the
// RuntimeDefault seccomp profile, and no service links in the environment.
func hardenedPod(spec *corev1.PodSpec) {
	spec.AutomountServiceAccountToken = ptr.To(false)
	spec.EnableServiceLinks = ptr.To(false)
	spec.SecurityContext = &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr.To(true),
		RunAsUser:      ptr.To[int64](nonRootUID),
		RunAsGroup:     ptr.To[int64](nonRootUID),
		FSGroup:        ptr.To[int64](nonRootUID),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	// A read-only root file system still needs somewhere to write temporary files.
	spec.Volumes = append(spec.Volumes, corev1.Volume{
		Name: "tmp",
		VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
			SizeLimit: ptr.To(resource.MustParse("64Mi")),
		}},
	})
}

// hardenedContainer is the container-level security: read-only root file system, no
// privilege escalation, every capability dropped.
func hardenedContainer(c *corev1.Container) {
	c.SecurityContext = &corev1.SecurityContext{
		RunAsNonRoot:             ptr.To(true),
		ReadOnlyRootFilesystem:   ptr.To(true),
		AllowPrivilegeEscalation: ptr.To(false),
		Privileged:               ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "tmp", MountPath: "/tmp"})
	c.TerminationMessagePolicy = corev1.TerminationMessageFallbackToLogsOnError
}

// withDefaultResources fills what r leaves empty from def, so that a limit always exists.
func withDefaultResources(r *corev1.ResourceRequirements, def corev1.ResourceRequirements) corev1.ResourceRequirements {
	out := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
	if r != nil {
		for k, v := range r.Requests {
			out.Requests[k] = v
		}
		for k, v := range r.Limits {
			out.Limits[k] = v
		}
	}
	for k, v := range def.Requests {
		if _, ok := out.Requests[k]; !ok {
			out.Requests[k] = v
		}
	}
	for k, v := range def.Limits {
		if _, ok := out.Limits[k]; !ok {
			out.Limits[k] = v
		}
	}
	// A request above its default limit would be refused; the limit follows the request.
	for k, req := range out.Requests {
		if lim, ok := out.Limits[k]; ok && req.Cmp(lim) > 0 {
			out.Limits[k] = req
		}
	}
	return out
}

func resources(cpuReq, memReq, cpuLim, memLim string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpuReq), corev1.ResourceMemory: resource.MustParse(memReq)},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpuLim), corev1.ResourceMemory: resource.MustParse(memLim)},
	}
}

var (
	engineResources = resources("50m", "64Mi", "1", "256Mi")
	traderResources = resources("10m", "32Mi", "200m", "128Mi")
)

// envGoMemLimit is the environment variable that tells the Go runtime its memory limit.
const envGoMemLimit = "GOMEMLIMIT"

// goMemLimit tells a Go program of the project (the engine, a built-in or Starlark
// trader) nine tenths of its container's memory limit, in bytes, as GOMEMLIMIT: near it,
// its garbage collector works harder rather than let the kernel kill the container. The
// engine's memory grows with the traders it remembers results of, and a large market's
// peaks come close to the default limit. Nothing without a memory limit.
func goMemLimit(r corev1.ResourceRequirements) []corev1.EnvVar {
	lim, ok := r.Limits[corev1.ResourceMemory]
	if !ok || lim.Value() <= 0 {
		return nil
	}
	return []corev1.EnvVar{envValue(envGoMemLimit, strconv.FormatInt(lim.Value()/10*9, 10))}
}

func envValue(name, value string) corev1.EnvVar { return corev1.EnvVar{Name: name, Value: value} }

func envSecret(name, secret, key string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key,
	}}}
}
