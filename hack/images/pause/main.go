// Command pause holds a pod's namespaces open: it is the pod sandbox ("pause") image of
// the local cluster, built here because no image can be pulled on these machines. It
// sleeps until it is asked to stop.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// As PID 1, a signal without a handler is ignored, so the stop signals are caught.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}
