// Command ceiling is anchor (d) of make bench: the apiserver's own ceiling. It issues the
// requests of a benchmark scenario as fast as the apiserver accepts them, from one process
// with the standard library's HTTP/2 client and N workers sharing one connection.
//
//	ceiling -server URL -ca FILE -cert FILE -key FILE [-workers N] [-secret NAME] [-limit N] ACTION NAMES_FILE
//
// ACTION is one of
//
//	create  one dockerconfigjson Secret per namespace (POST)
//	noop    the LISTs of a rerun of registry_pull_secret: namespaces, then the Secret by name
//	        cluster-wide, both paged by -limit; fails when a namespace lacks the Secret
//	attach  a merge patch of imagePullSecrets on each namespace's default ServiceAccount
//
// It prints one JSON line: {"seconds": time spent in the requests, "requests": count}.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const registry = "registry.bench.invalid"

type client struct {
	http     *http.Client
	server   string
	requests atomic.Int64
}

func newClient(server, ca, cert, key string, timeout time.Duration) (*client, error) {
	pem, err := os.ReadFile(ca)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", ca)
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, err
	}
	transport := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}},
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: timeout,
	}
	return &client{http: &http.Client{Transport: transport, Timeout: timeout}, server: strings.TrimRight(server, "/")}, nil
}

// do sends one request and decodes a JSON answer into out (when not nil).
func (c *client) do(method, path, contentType string, body any, out any) error {
	var payload io.Reader
	if body != nil {
		encoded, err := json.Marshal(body)
		if err != nil {
			return err
		}
		payload = bytes.NewReader(encoded)
	}
	request, err := http.NewRequest(method, c.server+path, payload)
	if err != nil {
		return err
	}
	request.Header.Set("Accept", "application/json")
	if body != nil {
		request.Header.Set("Content-Type", contentType)
	}
	c.requests.Add(1)
	response, err := c.http.Do(request)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	data, err := io.ReadAll(response.Body)
	if err != nil {
		return err
	}
	if response.StatusCode < 200 || response.StatusCode > 299 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, response.StatusCode, firstLine(data))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func firstLine(data []byte) string {
	line, _, _ := strings.Cut(string(data), "\n")
	return line
}

type list struct {
	Metadata struct {
		Continue string `json:"continue"`
	} `json:"metadata"`
	Items []struct {
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	} `json:"items"`
}

// listAll pages through a LIST with limit and continue; returns the items' namespaces (or
// names, for cluster-scoped objects).
func (c *client) listAll(path string, query url.Values, limit int) (map[string]bool, error) {
	found := map[string]bool{}
	query.Set("limit", fmt.Sprint(limit))
	for {
		var page list
		if err := c.do(http.MethodGet, path+"?"+query.Encode(), "", nil, &page); err != nil {
			return nil, err
		}
		for _, item := range page.Items {
			key := item.Metadata.Namespace
			if key == "" {
				key = item.Metadata.Name
			}
			found[key] = true
		}
		if page.Metadata.Continue == "" {
			return found, nil
		}
		query.Set("continue", page.Metadata.Continue)
	}
}

// each runs work on every name from workers goroutines; returns the first error.
func each(names []string, workers int, work func(string) error) error {
	jobs := make(chan string)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range jobs {
				if err := work(name); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for _, name := range names {
		jobs <- name
	}
	close(jobs)
	wg.Wait()
	return first
}

func pullSecret(name string) map[string]any {
	auth := base64.StdEncoding.EncodeToString([]byte("bench:bench-password"))
	config, _ := json.Marshal(map[string]any{"auths": map[string]any{
		registry: map[string]string{"username": "bench", "password": "bench-password", "auth": auth}}})
	return map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
		"metadata": map[string]string{"name": name},
		"data":     map[string]string{".dockerconfigjson": base64.StdEncoding.EncodeToString(config)},
	}
}

func run(c *client, action string, names []string, secret string, workers, limit int) error {
	switch action {
	case "create":
		body := pullSecret(secret)
		return each(names, workers, func(ns string) error {
			return c.do(http.MethodPost, "/api/v1/namespaces/"+ns+"/secrets", "application/json", body, nil)
		})
	case "noop":
		namespaces, err := c.listAll("/api/v1/namespaces", url.Values{}, limit)
		if err != nil {
			return err
		}
		holders, err := c.listAll("/api/v1/secrets", url.Values{"fieldSelector": {"metadata.name=" + secret}}, limit)
		if err != nil {
			return err
		}
		for _, ns := range names {
			if !namespaces[ns] || !holders[ns] {
				return fmt.Errorf("noop: namespace %s lacks the Secret %s", ns, secret)
			}
		}
		return nil
	case "attach":
		patch := map[string]any{"imagePullSecrets": []map[string]string{{"name": secret}}}
		return each(names, workers, func(ns string) error {
			return c.do(http.MethodPatch, "/api/v1/namespaces/"+ns+"/serviceaccounts/default",
				"application/merge-patch+json", patch, nil)
		})
	}
	return fmt.Errorf("unknown action %q (create, noop or attach)", action)
}

func main() {
	server := flag.String("server", "", "the apiserver's URL")
	ca := flag.String("ca", "", "the CA file that signed the apiserver's certificate")
	cert := flag.String("cert", "", "the client certificate file")
	key := flag.String("key", "", "the client key file")
	workers := flag.Int("workers", 100, "concurrent requests")
	secret := flag.String("secret", "bench-ceiling", "the Secret's name")
	limit := flag.Int("limit", 500, "items per page of a LIST")
	timeout := flag.Duration("timeout", 60*time.Second, "the timeout of each request")
	flag.Parse()
	if flag.NArg() != 2 || *server == "" || *ca == "" || *cert == "" || *key == "" || *workers < 1 || *limit < 1 {
		fmt.Fprintln(os.Stderr, "usage: ceiling -server URL -ca FILE -cert FILE -key FILE [-workers N] [-secret NAME] [-limit N] ACTION NAMES_FILE")
		os.Exit(2)
	}
	if err := measure(*server, *ca, *cert, *key, *timeout, flag.Arg(0), flag.Arg(1), *secret, *workers, *limit); err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
}

// measure runs the action and prints its JSON line.
func measure(server, ca, cert, key string, timeout time.Duration, action, namesFile, secret string, workers, limit int) error {
	text, err := os.ReadFile(namesFile)
	if err != nil {
		return err
	}
	c, err := newClient(server, ca, cert, key, timeout)
	if err != nil {
		return err
	}
	started := time.Now()
	if err := run(c, action, strings.Fields(string(text)), secret, workers, limit); err != nil {
		return err
	}
	out, err := json.Marshal(map[string]any{"seconds": time.Since(started).Seconds(), "requests": c.requests.Load()})
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}
