// kubelet-oracle answers, with the kubelet's own code, how the kubelet reads a pod's pull Secrets,
// which credentials it offers for an image and in which order, and how a registry's
// WWW-Authenticate challenge is read. The tests compare the collection's pure Python code with it.
//
// Input: one JSON case per line on stdin. Output: one JSON answer per line on stdout, in order.
//
//	{"op": "pull", "secrets": [{"type": "...", "data": {"<key>": "<base64>"}}], "images": ["..."]}
//	    -> {"error": null or the kubelet's error, "secrets": [{"used": bool, "error": ...,
//	        "entries": {"<key>": {"username": "<base64>", "password": "<base64>", "email": "<base64>"}}}],
//	        "images": [{"repo": "docker.io/library/x" or null, "parse_error": ..., "matches": [
//	        {"secret": 0, "key": "<key>", "username": "<base64>", "password": "<base64>"}]}]}
//	{"op": "challenge", "headers": ["Bearer realm=..."]}
//	    -> {"challenges": [{"scheme": "bearer", "params": {"realm": "..."}}]}
//
// User names, passwords and e-mails are base64 of their raw bytes, since the kubelet keeps
// whatever bytes an "auth" field decodes to. Nothing here touches the network or the disk.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"

	"github.com/docker/distribution/registry/client/auth/challenge"
	v1 "k8s.io/api/core/v1"
	"k8s.io/kubernetes/pkg/credentialprovider"
	"k8s.io/kubernetes/pkg/credentialprovider/secrets"
	"k8s.io/kubernetes/pkg/util/parsers"
)

type secretIn struct {
	Type string            `json:"type"`
	Data map[string][]byte `json:"data"`
}

type caseIn struct {
	Op      string     `json:"op"`
	Secrets []secretIn `json:"secrets"`
	Images  []string   `json:"images"`
	Headers []string   `json:"headers"`
}

type entryOut struct {
	Username []byte `json:"username"`
	Password []byte `json:"password"`
	Email    []byte `json:"email"`
}

type secretOut struct {
	Used    bool                `json:"used"`
	Error   *string             `json:"error"`
	Entries map[string]entryOut `json:"entries"`
}

type matchOut struct {
	Secret   int    `json:"secret"`
	Key      string `json:"key"`
	Username []byte `json:"username"`
	Password []byte `json:"password"`
}

type imageOut struct {
	Repo       *string    `json:"repo"`
	ParseError *string    `json:"parse_error"`
	Matches    []matchOut `json:"matches"`
}

type pullOut struct {
	Error   *string     `json:"error"`
	Secrets []secretOut `json:"secrets"`
	Images  []imageOut  `json:"images"`
}

type challengeOut struct {
	Scheme string            `json:"scheme"`
	Params map[string]string `json:"params"`
}

func text(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	return &s
}

// decode reads one Secret with the kubelet's types, under the conditions of
// secretsToTrackedDockerConfigs (pkg/credentialprovider/secrets): the type decides which key is
// read, and a missing or empty key makes the Secret unused.
func decode(s secretIn) (credentialprovider.DockerConfig, secretOut) {
	out := secretOut{Entries: map[string]entryOut{}}
	var cfg credentialprovider.DockerConfig
	var err error
	if raw := s.Data[v1.DockerConfigJsonKey]; s.Type == string(v1.SecretTypeDockerConfigJson) && len(raw) > 0 {
		doc := credentialprovider.DockerConfigJSON{}
		err = json.Unmarshal(raw, &doc)
		cfg, out.Used = doc.Auths, true
	} else if raw := s.Data[v1.DockerConfigKey]; s.Type == string(v1.SecretTypeDockercfg) && len(raw) > 0 {
		err = json.Unmarshal(raw, &cfg)
		out.Used = true
	}
	if err != nil {
		out.Error = text(err)
		return nil, out
	}
	for loc, e := range cfg {
		out.Entries[loc] = entryOut{[]byte(e.Username), []byte(e.Password), []byte(e.Email)}
	}
	return cfg, out
}

type tag struct {
	Secret int
	Key    string
}

func pull(c caseIn) pullOut {
	var out pullOut
	list := make([]v1.Secret, len(c.Secrets))
	configs := make([]credentialprovider.DockerConfig, len(c.Secrets))
	for i, s := range c.Secrets {
		list[i] = v1.Secret{Type: v1.SecretType(s.Type), Data: s.Data}
		cfg, decoded := decode(s)
		configs[i] = cfg
		out.Secrets = append(out.Secrets, decoded)
	}
	keyring, err := secrets.MakeDockerKeyring(list, nil)
	out.Error = text(err)
	// The kubelet adds a Secret's entries in Go's random map order, so two keys of one Secret that
	// it files under the same index (quay.io and https://quay.io) come back in either order. A
	// second keyring, fed one key at a time in sorted order and with each key's name as its user
	// name, gives that order deterministically and says which key each credential came from.
	tagged := &credentialprovider.BasicDockerKeyring{}
	for i, cfg := range configs {
		keys := make([]string, 0, len(cfg))
		for loc := range cfg {
			keys = append(keys, loc)
		}
		sort.Strings(keys)
		for _, loc := range keys {
			name, _ := json.Marshal(tag{i, loc})
			tagged.Add(nil, credentialprovider.DockerConfig{loc: {Username: string(name)}})
		}
	}
	for _, image := range c.Images {
		result := imageOut{Matches: []matchOut{}}
		repo, _, _, perr := parsers.ParseImageName(image)
		if perr != nil {
			result.ParseError = text(perr)
			out.Images = append(out.Images, result)
			continue
		}
		result.Repo = &repo
		if err == nil {
			found, _ := tagged.Lookup(repo)
			for _, auth := range found {
				var t tag
				if json.Unmarshal([]byte(auth.Username), &t) != nil {
					panic("untagged credential")
				}
				e := configs[t.Secret][t.Key]
				result.Matches = append(result.Matches, matchOut{t.Secret, t.Key, []byte(e.Username), []byte(e.Password)})
			}
			check(keyring, repo, result.Matches)
		}
		out.Images = append(out.Images, result)
	}
	return out
}

// check makes sure the kubelet's own keyring offers the same credentials as the tagged one.
func check(keyring credentialprovider.DockerKeyring, repo string, matches []matchOut) {
	real := []string{}
	if keyring != nil {
		found, _ := keyring.Lookup(repo)
		for _, auth := range found {
			real = append(real, auth.Username+"\x00"+auth.Password)
		}
	}
	want := []string{}
	for _, m := range matches {
		want = append(want, string(m.Username)+"\x00"+string(m.Password))
	}
	sort.Strings(real)
	sort.Strings(want)
	if fmt.Sprint(real) != fmt.Sprint(want) {
		panic(fmt.Sprintf("the tagged keyring and the kubelet's disagree for %q", repo))
	}
}

func challenges(c caseIn) []challengeOut {
	header := http.Header{}
	for _, h := range c.Headers {
		header.Add("WWW-Authenticate", h)
	}
	out := []challengeOut{}
	for _, ch := range challenge.ResponseChallenges(&http.Response{StatusCode: http.StatusUnauthorized, Header: header}) {
		out = append(out, challengeOut{ch.Scheme, ch.Parameters})
	}
	return out
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	for in.Scan() {
		var c caseIn
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			fmt.Fprintln(os.Stderr, "kubelet-oracle: bad case:", err)
			os.Exit(2)
		}
		var answer interface{}
		switch c.Op {
		case "pull":
			answer = pull(c)
		case "challenge":
			answer = map[string]interface{}{"challenges": challenges(c)}
		default:
			fmt.Fprintf(os.Stderr, "kubelet-oracle: unknown op %q\n", c.Op)
			os.Exit(2)
		}
		if err := enc.Encode(answer); err != nil {
			fmt.Fprintln(os.Stderr, "kubelet-oracle:", err)
			os.Exit(2)
		}
		// One answer per case, at once: the caller waits for it before it sends the next case.
		if err := out.Flush(); err != nil {
			os.Exit(2)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "kubelet-oracle:", err)
		os.Exit(2)
	}
}
