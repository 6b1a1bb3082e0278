module regcred.k8s/bench/ceiling

go 1.24.0
