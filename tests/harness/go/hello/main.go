// Command hello is the whole content of the private test image: it prints a line and
// exits, or with "pause" waits for a signal, so it can also serve as a pod sandbox image.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "pause" {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
		<-stop
		return
	}
	fmt.Println("hello from the regcred.k8s private test image")
}
