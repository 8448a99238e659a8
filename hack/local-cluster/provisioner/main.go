// Command provisioner gives the local cluster's PersistentVolumeClaims a volume: a folder
// on this machine, exposed as a hostPath PersistentVolume. It serves the default
// StorageClass "local-path", so that a chart's StatefulSet (the Redis of the monkonomy
// chart, with append-only persistence) keeps its data when its pod is deleted, as it would
// on any cluster with a storage provisioner. It runs on the host next to the kubelet.
//
// The folders are writable by everyone: hostPath volumes ignore fsGroup, and a pod runs
// as whatever user its image or security context says.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	provisionerName = "monkonomy.dev/local-path"
	annProvisioner  = "volume.kubernetes.io/storage-provisioner"
	annProvisioned  = "pv.kubernetes.io/provisioned-by"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "admin kubeconfig of the cluster")
	root := flag.String("root", "/var/lib/monkonomy-cluster/volumes", "folder that holds the volumes")
	every := flag.Duration("interval", time.Second, "how often to look for claims and released volumes")
	flag.Parse()
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Fatalf("provisioner: read the kubeconfig: %v", err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		log.Fatalf("provisioner: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	p := provisioner{client: client, root: *root}
	for ctx.Err() == nil {
		if err := p.provision(ctx); err != nil {
			log.Printf("provision: %v", err)
		}
		if err := p.reclaim(ctx); err != nil {
			log.Printf("reclaim: %v", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(*every):
		}
	}
}

type provisioner struct {
	client kubernetes.Interface
	root   string
}

// provision creates a volume for every pending claim that asks for this provisioner.
func (p provisioner) provision(ctx context.Context) error {
	claims, err := p.client.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list claims: %w", err)
	}
	for i := range claims.Items {
		c := &claims.Items[i]
		if c.Status.Phase != corev1.ClaimPending || c.Spec.VolumeName != "" || c.Annotations[annProvisioner] != provisionerName {
			continue
		}
		if err := p.create(ctx, c); err != nil {
			log.Printf("claim %s/%s: %v", c.Namespace, c.Name, err)
		}
	}
	return nil
}

func (p provisioner) create(ctx context.Context, c *corev1.PersistentVolumeClaim) error {
	name := "pvc-" + string(c.UID)
	dir := filepath.Join(p.root, name)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	// MkdirAll applies the umask; the pod's user must be able to write.
	if err := os.Chmod(dir, 0o777); err != nil {
		return fmt.Errorf("chmod %s: %w", dir, err)
	}
	class := ""
	if c.Spec.StorageClassName != nil {
		class = *c.Spec.StorageClassName
	}
	dirType := corev1.HostPathDirectoryOrCreate
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{annProvisioned: provisionerName}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: c.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes:                   c.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			StorageClassName:              class,
			VolumeMode:                    c.Spec.VolumeMode,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: c.Namespace, Name: c.Name, UID: c.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: dir, Type: &dirType},
			},
		},
	}
	_, err := p.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create volume %s: %w", name, err)
	}
	log.Printf("Created volume %s at %s for claim %s/%s", name, dir, c.Namespace, c.Name)
	return nil
}

// reclaim deletes the folder and the volume once its claim is gone.
func (p provisioner) reclaim(ctx context.Context) error {
	pvs, err := p.client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list volumes: %w", err)
	}
	for i := range pvs.Items {
		pv := &pvs.Items[i]
		if pv.Annotations[annProvisioned] != provisionerName || pv.Status.Phase != corev1.VolumeReleased ||
			pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete || pv.Spec.HostPath == nil {
			continue
		}
		if filepath.Dir(pv.Spec.HostPath.Path) != filepath.Clean(p.root) {
			continue
		}
		if err := os.RemoveAll(pv.Spec.HostPath.Path); err != nil {
			log.Printf("volume %s: remove %s: %v", pv.Name, pv.Spec.HostPath.Path, err)
			continue
		}
		err := p.client.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			log.Printf("volume %s: delete: %v", pv.Name, err)
			continue
		}
		log.Printf("Deleted volume %s", pv.Name)
	}
	return nil
}
