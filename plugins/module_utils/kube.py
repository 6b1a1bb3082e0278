# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Kubernetes API client from the connection options that kubernetes.core uses.

The options have kubernetes.core's names and read the same ``K8S_AUTH_*`` environment
variables, so ``module_defaults`` and existing inventories carry over. Requests go straight to
urllib3 and are decoded as plain dicts: no model classes and no API discovery.

Importing the kubernetes package costs most of a second (it loads its whole client, the
dynamic client and every authentication plugin, google-auth among them), more than the rest of
a task. So a kubeconfig that names its credentials directly (certificates, a token or a token
file), explicit ``host`` options and the in-cluster ServiceAccount are read here, and only a
kubeconfig user that runs a credential plugin (``exec``, ``auth-provider``) or lists several
files in ``KUBECONFIG`` is handed to the kubernetes package's own loader.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import importlib.util
import json
import os
import ssl
import tempfile
from urllib.parse import quote, urlencode, urlsplit

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.regcred.k8s.plugins.module_utils.duration import check_timeout
from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError, KubeError
from ansible_collections.regcred.k8s.plugins.module_utils.no_proxy import bypasses_proxy

try:
    import urllib3
    import yaml
    from urllib3.util.ssl_match_hostname import CertificateError as HostnameMismatch
    IMPORT_ERROR = None if importlib.util.find_spec("kubernetes") else ImportError("No module named 'kubernetes'")
except ImportError as exc:  # pragma: no cover - reported by fail_if_missing()
    IMPORT_ERROR = exc

IN_CLUSTER_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# What a kubeconfig user entry may hold for this module to read it without the kubernetes package.
DIRECT_USER_KEYS = frozenset(("token", "tokenFile", "client-certificate", "client-certificate-data",
                              "client-key", "client-key-data"))

# Files of the connection options (k8s_auth_spec), checked before the client reads them.
PATH_OPTIONS = ("ca_cert", "client_cert", "client_key")

# Seconds to connect and, again, to wait for an answer, unless request_timeout says otherwise. A
# read is tried READ_ATTEMPTS times, so a silent apiserver fails a task in about a minute.
DEFAULT_REQUEST_TIMEOUT = 20
READ_ATTEMPTS = 3
# Seconds before the third attempt (urllib3 sends the second one at once, then doubles this).
READ_BACKOFF = 0.5
# A GET changes nothing, so it is sent again after a connection error or a timeout. A write is
# sent once: a lost answer does not tell whether the apiserver applied it.
READ_METHODS = frozenset(["GET"])
# OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH and X509_V_ERR_IP_ADDRESS_MISMATCH: a trusted certificate
# for another name, which no CA file fixes.
NAME_MISMATCH_CODES = (62, 64)
# Items per page of a LIST (limit and continue): a read over thousands of namespaces comes in
# answers of this size, not one body of them all.
PAGE_SIZE = 500


def all_pages(fetch, page_size):
    """The items of every page of a LIST, in order. ``fetch(paging)`` returns one page, the decoded
    list, for the query parameters ``paging`` ({"limit": ...}, plus "continue" after the first page);
    a page without metadata.continue is the last. A metadata-only list with nothing in it says
    "items": null.

    A later page answered 410 means its continue token expired (etcd compacted the revision of the
    first page, some minutes on): the list is read again whole, in one request without a limit,
    as client-go's pager does (tools/pager, FullListIfExpired); paging again could expire again."""
    items, paging = [], {"limit": page_size}
    while True:
        try:
            page = fetch(dict(paging))
        except KubeError as exc:
            if exc.status != 410 or "continue" not in paging:
                raise
            return fetch({}).get("items") or []
        items.extend(page.get("items") or [])
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return items
        paging["continue"] = token


def core_path(*segments):
    """A core/v1 API path from its segments, each percent-escaped: a name can never add or climb
    a path segment, whatever it holds (callers validate names first; this is the second wall)."""
    return "/api/v1/" + "/".join(quote(str(segment), safe="") for segment in segments)


def fail_if_missing(module):
    if IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=str(IMPORT_ERROR))


class Connection:
    """Where the apiserver is and how to authenticate. ``*_data`` hold PEM bytes from a
    kubeconfig; ``authorization`` is a function returning the Authorization header's value (or
    None), so a credential plugin's token can be refreshed. ``proxy_headers`` go to the proxy only."""

    def __init__(self):
        self.host = None
        self.ca_file = self.ca_data = self.cert_file = self.cert_data = self.key_file = self.key_data = None
        self.verify = True
        self.tls_server_name = None
        self.proxy = self.no_proxy = None
        self.proxy_headers = {}
        self.authorization = _static(None)
        self.timeout = DEFAULT_REQUEST_TIMEOUT

    def proxied(self):
        """Whether requests go through ``proxy`` (set, and ``no_proxy`` does not exempt the host)."""
        return bool(self.proxy) and not bypasses_proxy(self.host, self.no_proxy)


def _static(value):
    def authorization():
        return value
    return authorization


def _bearer(token):
    return _static("Bearer " + token)


def _read(path):
    with open(path, "rb") as handle:
        return handle.read().decode().strip()


def _text(value):
    """``value`` when it is a string; a kubeconfig holding a number or a list where a path or PEM
    data belongs is an InputError."""
    if not isinstance(value, str):
        raise InputError("kubeconfig", "holds a %s where a string belongs" % type(value).__name__)
    return value


def _mapping(value, what):
    """``value`` when it is a mapping (None counts as empty); InputError naming the kubeconfig part."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError("kubeconfig", "%s is not a mapping" % what)
    return value


def _named(entries, name, what):
    if entries is not None and not isinstance(entries, list):
        raise InputError("kubeconfig", "%ss is not a list" % what)
    for entry in entries or []:
        entry = _mapping(entry, "an entry of %ss" % what)
        if entry.get("name") == name:
            return _mapping(entry.get(what), "%s %r" % (what, name))
    raise InputError("kubeconfig", "no %s named %r in the kubeconfig" % (what, name), prefixed=False)


def _from_kubeconfig(config, context, base_dir):
    """A Connection from a kubeconfig dict, or None when its user needs a credential plugin."""
    context = context or config.get("current-context")
    if not context:
        raise InputError("context", "the kubeconfig has no current-context; set context", prefixed=False)
    chosen = _named(config.get("contexts"), context, "context")
    user = _named(config.get("users"), chosen["user"], "user") if chosen.get("user") else {}
    if set(user) - DIRECT_USER_KEYS:
        return None
    cluster = _named(config.get("clusters"), chosen.get("cluster"), "cluster")

    def path(value):
        return value if value is None or os.path.isabs(_text(value)) else os.path.join(base_dir, value)

    def data(value):
        return None if value is None else base64.b64decode(_text(value))

    conn = Connection()
    conn.host = cluster.get("server")
    conn.ca_file, conn.ca_data = path(cluster.get("certificate-authority")), data(cluster.get("certificate-authority-data"))
    conn.verify = not cluster.get("insecure-skip-tls-verify", False)
    conn.tls_server_name, conn.proxy = cluster.get("tls-server-name"), cluster.get("proxy-url")
    conn.cert_file, conn.cert_data = path(user.get("client-certificate")), data(user.get("client-certificate-data"))
    conn.key_file, conn.key_data = path(user.get("client-key")), data(user.get("client-key-data"))
    if user.get("token"):
        conn.authorization = _bearer(_text(user["token"]))
    elif user.get("tokenFile"):
        conn.authorization = _bearer(_read(path(user["tokenFile"])))
    return conn


def _from_kubernetes_package(kubeconfig, context, persist):
    """The kubernetes package's loader, for credential plugins; its token hook refreshes them.
    With ``persist`` (persist_config), an ``auth-provider`` token it refreshes is written back to
    the kubeconfig file, as kubernetes.core does; otherwise the file is never written."""
    from kubernetes import client as k8s_client  # pylint: disable=import-outside-toplevel
    from kubernetes import config as k8s_config  # pylint: disable=import-outside-toplevel
    cfg = k8s_client.Configuration()
    try:
        if isinstance(kubeconfig, dict):
            k8s_config.load_kube_config_from_dict(kubeconfig, context=context, client_configuration=cfg,
                                                  persist_config=persist)
        else:
            k8s_config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=cfg,
                                        persist_config=persist)
    except k8s_config.ConfigException as exc:
        raise InputError("kubeconfig", str(exc), prefixed=False)
    conn = Connection()
    conn.host, conn.ca_file, conn.verify = cfg.host, cfg.ssl_ca_cert, cfg.verify_ssl
    conn.cert_file, conn.key_file = cfg.cert_file, cfg.key_file
    conn.tls_server_name, conn.proxy = getattr(cfg, "tls_server_name", None), cfg.proxy

    def authorization():
        # auth_settings() runs the loader's refresh hook, which renews an expired plugin token. The
        # value carries its scheme: "Bearer", or "Basic" for a kubeconfig user with a password.
        return cfg.auth_settings().get("BearerToken", {}).get("value") or None
    conn.authorization = authorization
    return conn


def _in_cluster():
    host, port = os.environ["KUBERNETES_SERVICE_HOST"], os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    conn = Connection()
    conn.host = "https://%s:%s" % ("[%s]" % host if ":" in host else host, port)
    conn.ca_file = os.path.join(IN_CLUSTER_DIR, "ca.crt")
    conn.authorization = _bearer(_read(os.path.join(IN_CLUSTER_DIR, "token")))
    return conn


def _kubeconfig_connection(kubeconfig, context, persist):
    if isinstance(kubeconfig, dict):
        return _from_kubeconfig(kubeconfig, context, os.getcwd()) or _from_kubernetes_package(kubeconfig, context, persist)
    path = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
    if os.pathsep in path:  # several files to merge: the kubernetes package's loader does that
        return _from_kubernetes_package(path, context, persist)
    path = os.path.expanduser(path)
    with open(path, "rb") as handle:
        config = yaml.safe_load(handle) or {}
    if not isinstance(config, dict):
        raise InputError("kubeconfig", "%s is not a kubeconfig" % path, prefixed=False)
    return _from_kubeconfig(config, context, os.path.dirname(path)) or _from_kubernetes_package(path, context, persist)


def basic_authorization(username, password):
    """The Authorization value for HTTP basic authentication, Latin-1 encoded as urllib3's
    make_headers (and so the kubernetes client) encodes it; InputError for other text."""
    try:
        credentials = ("%s:%s" % (username, password)).encode("latin-1")
    except UnicodeEncodeError:
        raise InputError("password", "username and password must be Latin-1 text for HTTP basic authentication")
    return "Basic " + base64.b64encode(credentials).decode()


def check_username_password(params):
    """username and password come together; InputError naming the one that is missing."""
    for given, missing in (("username", "password"), ("password", "username")):
        if params.get(given) and not params.get(missing):
            raise InputError(missing, "is needed with %s" % given)


def connection(params):
    """The Connection for the module options; explicit options override the kubeconfig's.

    As in kubernetes.core, host with api_key, client_cert or username and password is used without
    reading a kubeconfig. username and password are sent (HTTP basic authentication) only when no
    token is: kubernetes.core sets them on the kubernetes client, which never sends them."""
    kubeconfig, context = params.get("kubeconfig"), params.get("context")
    check_username_password(params)
    if params.get("host") and (params.get("api_key") or params.get("client_cert") or params.get("password")):
        conn = Connection()
    elif isinstance(kubeconfig, dict) or kubeconfig or context or not os.environ.get("KUBERNETES_SERVICE_HOST"):
        conn = _kubeconfig_connection(kubeconfig, context, bool(params.get("persist_config")))
    else:
        conn = _in_cluster()
    if params.get("host"):
        conn.host = params["host"]
    if params.get("api_key"):
        conn.authorization = _bearer(params["api_key"])
    elif params.get("password"):
        conn.authorization = _or_basic(conn.authorization, params["username"], params["password"])
    if params.get("ca_cert"):
        conn.ca_file, conn.ca_data = params["ca_cert"], None
    if params.get("client_cert"):
        conn.cert_file, conn.cert_data = params["client_cert"], None
    if params.get("client_key"):
        conn.key_file, conn.key_data = params["client_key"], None
    if params.get("proxy"):
        conn.proxy = params["proxy"]
    if params.get("no_proxy"):
        conn.no_proxy = params["no_proxy"]
    if params.get("proxy_headers"):
        conn.proxy_headers = urllib3.util.make_headers(**params["proxy_headers"])
    if params.get("validate_certs") is not None:
        conn.verify = params["validate_certs"]
    if not conn.host or not isinstance(conn.host, str):
        raise InputError("host", "no apiserver address; set host or a kubeconfig", prefixed=False)
    for option in PATH_OPTIONS:
        # TLS would report a missing file only at the first request, without naming it.
        if params.get(option) and not os.path.isfile(params[option]):
            raise InputError(option, "%s is not a file" % params[option])
    if params.get("impersonate_groups") and not params.get("impersonate_user"):
        # The apiserver refuses groups without a user, object by object.
        raise InputError("impersonate_groups", "needs impersonate_user")
    conn.timeout = request_timeout(params)
    return conn


def _or_basic(authorization, username, password):
    """``authorization``, or basic authentication with ``username`` and ``password`` when it gives none."""
    basic = basic_authorization(username, password)

    def either():
        return authorization() or basic
    return either


def request_timeout(params):
    """Seconds for each connect and each wait for an answer (request_timeout)."""
    value = params.get("request_timeout")
    return DEFAULT_REQUEST_TIMEOUT if value is None else check_timeout(value, "request_timeout")


def _load_client_certificate(context, conn):
    """Key material from a kubeconfig goes through files only for as long as ssl needs them."""
    if not (conn.cert_file or conn.cert_data):
        return
    made = []
    try:
        def as_file(path, data):
            if path or data is None:
                return path
            handle, name = tempfile.mkstemp(prefix="regcred-k8s-")  # mode 0600
            made.append(name)
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            return name
        cert, key = as_file(conn.cert_file, conn.cert_data), as_file(conn.key_file, conn.key_data)
        try:
            # Without a password callback OpenSSL would prompt on the terminal for an encrypted key.
            context.load_cert_chain(cert, key, password=lambda: b"")
        except ssl.SSLError as exc:
            raise InputError("client_cert", "client_cert and client_key: %s cannot be loaded as a client certificate and "
                             "its key: %s" % (", ".join(p for p in (conn.cert_file, conn.key_file) if p) or "the kubeconfig's", exc),
                             prefixed=False)
    finally:
        for name in made:
            os.unlink(name)


def _pool(conn, pool_size):
    context = ssl.create_default_context(cafile=conn.ca_file, cadata=conn.ca_data.decode() if conn.ca_data else None)
    if not conn.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    _load_client_certificate(context, conn)
    options = dict(maxsize=pool_size, block=True, ssl_context=context, retries=False,
                   timeout=urllib3.Timeout(connect=conn.timeout, read=conn.timeout),
                   cert_reqs=ssl.CERT_REQUIRED if conn.verify else ssl.CERT_NONE,
                   assert_hostname=conn.tls_server_name if conn.verify else False)
    if conn.tls_server_name:
        options["server_hostname"] = conn.tls_server_name
    if conn.proxied():
        return urllib3.ProxyManager(conn.proxy, proxy_headers=conn.proxy_headers or None, **options)
    return urllib3.PoolManager(**options)


class Kube:
    """The few calls the modules make, on plain dicts."""

    def __init__(self, params, user_agent, pool_size=10, page_size=PAGE_SIZE):
        self.page_size = page_size
        try:
            self.conn = connection(params)
            self.pool = _pool(self.conn, pool_size)
        except (OSError, ValueError, ssl.SSLError, yaml.YAMLError) as exc:
            raise KubeError("cannot load the Kubernetes connection settings (kubeconfig, context, "
                            "host, proxy): %s" % exc)
        self.base = self.conn.host.rstrip("/")
        # Without a proxy every request goes to one pool of connections to the apiserver, not
        # through the manager's lookup of that pool by URL on each request (about 4 % of the
        # module's CPU over 1,000 creates). Through a proxy the manager decides the request's form.
        self.direct = None if self.conn.proxied() else self.pool.connection_from_url(self.base)
        self.prefix = urlsplit(self.base).path
        self.headers = urllib3.HTTPHeaderDict({"User-Agent": user_agent})
        self.read_retries = urllib3.Retry(total=READ_ATTEMPTS - 1, connect=READ_ATTEMPTS - 1, read=READ_ATTEMPTS - 1,
                                          redirect=0, status=0, other=0, allowed_methods=READ_METHODS,
                                          backoff_factor=READ_BACKOFF, raise_on_redirect=False, raise_on_status=False)
        # The message of the first request that timed out: the apiserver is not answering, and
        # every request after it would wait as long again (a run over many namespaces, for hours).
        self.silent = None
        if params.get("impersonate_user"):
            self.headers.add("Impersonate-User", params["impersonate_user"])
        for group in params.get("impersonate_groups") or []:
            # The apiserver reads one group per header; a comma-joined value is one group.
            self.headers.add("Impersonate-Group", group)

    def close(self):
        self.pool.clear()

    def request(self, method, path, query=None, body=None, accept="application/json",
                content_type="application/json"):
        """One API call; returns the decoded JSON (None for an empty body) or raises KubeError."""
        if self.silent is not None:
            raise KubeError(self.silent, timed_out=True)
        headers = self._headers(accept)
        if body is not None:
            headers["Content-Type"] = content_type
            body = json.dumps(body).encode()
        retries = self.read_retries if method in READ_METHODS else False
        try:
            response = self._send(method, path, query, body=body, headers=headers, retries=retries)
        except Exception as exc:  # urllib3 connection and TLS errors
            error = self._unreached(exc, retries)
            if error.timed_out:
                self.silent = str(error)
            raise error
        data = response.data
        _check_status(response, data)
        return json.loads(data) if data else None

    def list_items(self, path, query=None, accept="application/json"):
        """The items of the LIST at ``path``, read in pages of ``page_size``; KubeError as request()."""
        return all_pages(lambda paging: self.request("GET", path, dict(query or {}, **paging), accept=accept),
                         self.page_size)

    def watch_lines(self, path, query, read_timeout):
        """The lines of a WATCH response as they arrive. ``read_timeout`` bounds each wait for
        data (the apiserver's own timeoutSeconds should end the watch first); a lost connection
        or a silent apiserver raises KubeError, an error status KubeError with that status."""
        try:
            response = self._send("GET", path, query, headers=self._headers("application/json"), retries=False,
                                  preload_content=False,
                                  timeout=urllib3.Timeout(connect=self.conn.timeout, read=read_timeout))
        except Exception as exc:  # urllib3 connection and TLS errors
            raise self._unreached(exc, False)
        try:
            if not 200 <= response.status <= 299:
                _check_status(response, response.read())
            for line in response:
                if line.strip():
                    yield line
        except urllib3.exceptions.HTTPError as exc:
            raise self._unreached(exc, False)
        finally:
            response.release_conn()

    def _headers(self, accept):
        headers = urllib3.HTTPHeaderDict(self.headers)
        headers["Accept"] = accept
        authorization = self.conn.authorization()
        if authorization:
            headers["Authorization"] = authorization
        return headers

    def _send(self, method, path, query, **options):
        """The urllib3 response to one request, sent without following redirects."""
        target = path + ("?" + urlencode(list(query.items())) if query else "")
        if self.direct is None:
            return self.pool.request(method, self.base + target, redirect=False, **options)
        return self.direct.request(method, self.prefix + target, redirect=False, **options)

    def get(self, path, accept="application/json"):
        """The object at ``path``, or None when it does not exist (HTTP 404); KubeError otherwise."""
        try:
            return self.request("GET", path, accept=accept)
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise

    def _unreached(self, exc, retries):
        """The KubeError for a request that got no HTTP answer."""
        cause = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) else exc
        where = "the Kubernetes API at %s (set by host or kubeconfig)" % self.conn.host
        # urllib3 derives NewConnectionError (refused, unreachable) from its timeout errors.
        if isinstance(cause, urllib3.exceptions.TimeoutError) and not isinstance(
                cause, urllib3.exceptions.NewConnectionError):
            attempts = " (%d attempts)" % READ_ATTEMPTS if retries else ""
            return KubeError("%s timed out: no answer within %g s%s; request_timeout (or "
                             "K8S_AUTH_REQUEST_TIMEOUT) sets how long to wait" % (where, self.conn.timeout, attempts),
                             timed_out=True)
        problem, detail = _certificate_problem(cause)
        if problem == "name":
            return KubeError("the TLS certificate of %s is not for that name (%s); connect by a name it has "
                             "(host, or the kubeconfig's tls-server-name), or set validate_certs to false to skip "
                             "the check" % (where, detail))
        if problem == "trust":
            return KubeError("the TLS certificate of %s could not be verified (%s); set ca_cert (or the kubeconfig's "
                             "certificate-authority) to the CA file that signed it, or validate_certs to false to "
                             "skip the check" % (where, detail))
        return KubeError("cannot reach %s: %s" % (where, _first_line(cause)))


def _check_status(response, data):
    """KubeError for a response that is not a success, with the apiserver's message."""
    if not 200 <= response.status <= 299:
        message = _api_message(response.status, response.reason, data)
        if response.status == 401:
            message += ("; the apiserver did not accept the identity given by api_key, client_cert and "
                        "client_key, username and password, or kubeconfig")
        raise KubeError(message, response.status, response.reason)


def _certificate_problem(exc):
    """``("name" or "trust", detail)`` when a urllib3 error is about the server's certificate:
    issued for another name (urllib3 or OpenSSL checked it), or not signed by a trusted CA;
    ``(None, None)`` otherwise."""
    for candidate in (exc,) + tuple(getattr(exc, "args", ())):
        if isinstance(candidate, HostnameMismatch):
            return "name", _first_line(candidate)
        if isinstance(candidate, ssl.SSLCertVerificationError):
            detail = getattr(candidate, "verify_message", None) or _first_line(candidate)
            return ("name" if getattr(candidate, "verify_code", None) in NAME_MISMATCH_CODES else "trust"), detail
    return None, None


def _first_line(exc):
    text = str(exc) or exc.__class__.__name__
    return text.splitlines()[0]


def _api_message(status, reason, body):
    try:
        message = json.loads(body).get("message")
    except (TypeError, ValueError, AttributeError):
        message = None
    return "%s (HTTP %s)" % (message or reason, status)
