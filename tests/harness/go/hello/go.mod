module regcred.k8s/harness/hello

go 1.24.0
