# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Kubernetes API client from the connection options that kubernetes.core uses.

The options have kubernetes.core's names and read the same ``K8S_AUTH_*`` environment
variables, so ``module_defaults`` and existing inventories carry over. Requests go through the
generated client with ``_preload_content=False`` and are decoded as plain dicts: no model
classes, and no API discovery, which is what makes a task start fast.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import ssl

from ansible.module_utils.basic import missing_required_lib

try:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from urllib3._collections import HTTPHeaderDict
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by fail_if_missing()
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = exc

# Files of the connection options (k8s_auth_spec), checked before the client reads them.
PATH_OPTIONS = ("ca_cert", "client_cert", "client_key")


class KubeError(Exception):
    """An API call failed. ``status`` is the HTTP status (None when the server was not
    reached); the message is the apiserver's own, which never holds Secret data."""

    def __init__(self, message, status=None, reason=None):
        super(KubeError, self).__init__(message)
        self.status = status
        self.reason = reason

    @property
    def fatal(self):
        """True when no other request can fare better: the apiserver was not reached, or it did
        not accept the identity. Such an error is about the connection options, never about one object."""
        return self.status in (None, 401)


def fail_if_missing(module):
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=str(KUBERNETES_IMPORT_ERROR))


def _configuration(params):
    cfg = k8s_client.Configuration()
    kubeconfig, context = params.get("kubeconfig"), params.get("context")
    explicit = params.get("host") and (params.get("api_key") or params.get("client_cert"))
    if not explicit:
        if isinstance(kubeconfig, dict):
            k8s_config.load_kube_config_from_dict(kubeconfig, context=context, client_configuration=cfg)
        elif kubeconfig or context or not os.environ.get("KUBERNETES_SERVICE_HOST"):
            path = os.path.expanduser(kubeconfig) if kubeconfig else None
            k8s_config.load_kube_config(config_file=path, context=context, client_configuration=cfg)
        else:
            k8s_config.load_incluster_config(client_configuration=cfg)
    for option in PATH_OPTIONS:
        # The client would report a missing file only at the first request, as a TLS error.
        if params.get(option) and not os.path.isfile(params[option]):
            raise ValueError("%s: %s is not a file" % (option, params[option]))
    if params.get("client_cert"):
        try:
            # Without a password callback OpenSSL would prompt on the terminal for an encrypted key.
            ssl.create_default_context().load_cert_chain(params["client_cert"], params.get("client_key"), password=lambda: b"")
        except (ssl.SSLError, OSError) as exc:
            raise ValueError("client_cert and client_key: %s cannot be loaded as a client certificate and its key: %s"
                             % (", ".join(p for p in (params["client_cert"], params.get("client_key")) if p), exc))
    if params.get("impersonate_groups") and not params.get("impersonate_user"):
        # The apiserver refuses groups without a user, object by object.
        raise ValueError("impersonate_groups: needs impersonate_user")
    if params.get("host"):
        cfg.host = params["host"]
    if params.get("api_key"):
        cfg.api_key = {"authorization": "Bearer " + params["api_key"]}
    for option, attr in (("ca_cert", "ssl_ca_cert"), ("client_cert", "cert_file"),
                         ("client_key", "key_file"), ("proxy", "proxy")):
        if params.get(option):
            setattr(cfg, attr, params[option])
    if params.get("validate_certs") is not None:
        cfg.verify_ssl = params["validate_certs"]
    return cfg


class Kube:
    """The few calls the modules make, on plain dicts."""

    def __init__(self, params, user_agent, pool_size=10):
        try:
            cfg = _configuration(params)
            cfg.connection_pool_maxsize = pool_size
            cfg.retries = False  # failures are reported per namespace, not retried blindly
            # The client parses host and proxy here (urllib3's LocationParseError is a ValueError).
            self.api = k8s_client.ApiClient(cfg)
        except (k8s_config.ConfigException, OSError, ValueError, TypeError) as exc:
            raise KubeError("cannot load the Kubernetes connection settings (kubeconfig, context, "
                            "host, proxy): %s" % exc)
        self.api.user_agent = user_agent
        self._impersonation = HTTPHeaderDict()
        if params.get("impersonate_user"):
            self._impersonation.add("Impersonate-User", params["impersonate_user"])
        for group in params.get("impersonate_groups") or []:
            # The apiserver reads one group per header; a comma-joined value is one group.
            self._impersonation.add("Impersonate-Group", group)

    def close(self):
        self.api.close()

    def request(self, method, path, query=None, body=None, timeout=None, accept="application/json",
                content_type="application/json"):
        """One API call; returns the decoded JSON (None for an empty body) or raises KubeError."""
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type
        method, url, headers, body, post_params = self.api.param_serialize(
            method, path, query_params=list((query or {}).items()), header_params=headers,
            body=body, auth_settings=["BearerToken"])
        headers = HTTPHeaderDict(headers)
        headers.extend(self._impersonation)
        try:
            response = self.api.call_api(method, url, header_params=headers, body=body,
                                         post_params=post_params, _request_timeout=timeout)
            data = response.read()
        except Exception as exc:  # urllib3 connection and TLS errors
            raise KubeError("cannot reach the Kubernetes API at %s (set by host or kubeconfig): %s" % (
                self.api.configuration.host, _first_line(exc)))
        if not 200 <= response.status <= 299:
            message = _api_message(response.status, response.reason, data)
            if response.status == 401:
                message += ("; the apiserver did not accept the identity given by api_key, client_cert and "
                            "client_key, or kubeconfig")
            raise KubeError(message, response.status, response.reason)
        return json.loads(data) if data else None


def _first_line(exc):
    text = str(exc) or exc.__class__.__name__
    return text.splitlines()[0]


def _api_message(status, reason, body):
    try:
        message = json.loads(body).get("message")
    except (TypeError, ValueError, AttributeError):
        message = None
    return "%s (HTTP %s)" % (message or reason, status)
