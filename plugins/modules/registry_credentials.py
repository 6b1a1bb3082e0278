#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: registry_credentials
short_description: Registry credentials for Docker and Podman hosts, and for any other task
version_added: 1.0.0
description:
  - Gets a login for each registry in O(registries), from the same providers as
    M(regcred.k8s.registry_pull_secret) (Docker Hub, any v2 registry, a Docker config file, Amazon
    ECR, Google GCR and Artifact Registry, Azure ACR), without Kubernetes.
  - Returns each login, so that a later task can use it, for example
    M(community.docker.docker_login) or M(containers.podman.podman_login). Passwords and tokens are
    returned only when the task has C(no_log) set to V(true); without it the module fails, so that
    they never reach the screen or a log. With O(return_secrets=false) only the registries, user
    names and expiry are returned, and no C(no_log) is needed.
  - With O(dest), also merges the logins into a Docker C(config.json) or Podman C(auth.json) file,
    keeping everything else in it. The file is written atomically, and only when its content
    changes. An existing file keeps its mode, owner and group; a new one gets mode C(0600).
  - With O(dest), short-lived tokens are minted again only when the one in the file expires within
    O(refresh_before); their expiry is kept beside the file in C(<dest>.regcred.json). A scheduled
    run then neither mints nor writes until a token is due.
author:
  - regcred.k8s maintainers (@regcred)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - regcred.k8s.registry_tls
  - regcred.k8s.registries
attributes:
  check_mode:
    support: full
    details:
      - Tokens are minted (a read-only request) and verified, but no file is created or changed.
  diff_mode:
    support: full
    details:
      - With O(dest), the diff shows the registries and user names in the file, and for each
        managed credential whether it is added, changed or unchanged and when it expires. It never
        shows a password, a token or a hash of one.
  platform:
    platforms: posix
options:
  return_secrets:
    description:
      - Return the password or token of each credential in RV(credentials[].password).
      - This needs C(no_log) set to V(true) on the task; without it the task fails before minting
        anything.
        Ansible shows no part of the result of such a task, but a registered variable holds all of it.
      - Set it to V(false) to return only registries, user names and expiry, for example when
        O(dest) is all that is needed.
    type: bool
    default: true
  dest:
    description:
      - A Docker or Podman auth file to merge the credentials into, such as C(~/.docker/config.json)
        or C(${XDG_RUNTIME_DIR}/containers/auth.json). Missing directories are created with mode
        C(0700).
      - An entry for the same registry, under any spelling of its name, is replaced. Other entries
        and keys (C(credHelpers), C(credsStore), C(proxies)) are kept.
      - Writers are serialised through C(flock) on C(<dest>.lock), which is removed at the end of
        every run, also a failed one; the expiry of each credential is kept in
        C(<dest>.regcred.json), which holds no secret.
      - An existing file keeps its mode (also a read-only one such as C(0400)), owner and group. A
        user other than root sets the group again, which a member of it may do; when that fails,
        the task fails rather than give the file another group.
      - A symbolic link is followed, and the file it points to is replaced.
      - A file or sidecar with other hard links is refused before anything is minted, because the atomic
        rename would leave the other links with the old content.
      - Usually combined with O(return_secrets=false).
    type: path
  refresh_before:
    description:
      - With O(dest), mint a new short-lived token (ECR, GCR access tokens, ACR refresh tokens) only
        when the one in O(dest) expires within this duration, such as V(30m), V(2h) or V(1h30m), or
        a number of seconds. Until then the stored token is returned and nothing is written.
      - Choose it longer than the interval between two scheduled runs.
      - Without O(dest) there is nowhere to keep a token, and every run mints.
    type: raw
    default: 6h
  verify:
    description:
      - Before writing or returning anything, log in to each registry with each newly minted
        credential, through its C(/v2/) Basic or Bearer token flow. A credential that fails stops the
        task, so it never replaces a working one in O(dest).
    type: bool
    default: false
notes:
  - Whether secrets may be returned is decided from the task's own C(no_log), which the module's
    action plugin reads; C(no_target_syslog) does not stand in for it.
  - Docker and Podman write their auth files without a lock; an entry that C(docker login) writes in
    the moment between this module's last read and its rename can be lost. Runs of this module, and
    other tools that take the C(flock) on C(<dest>.lock), never lose each other's entries. Since the
    lock file is removed after each run, such a tool checks after C(flock) that C(<dest>.lock) is
    still the file it locked, and locks the new one if not.
  - Run as root for another user's file (C(become)), the file keeps its owner, and a new file gets
    the owner of its directory.
  - Moto and other ECR emulators hand out tokens that have already expired; with O(dest) each run then
    mints again, and the module warns.
seealso:
  - module: regcred.k8s.registry_pull_secret
  - module: community.docker.docker_login
  - module: containers.podman.podman_login
  - name: containers-auth.json
    description: The format of the Podman and Docker auth files.
    link: https://github.com/containers/image/blob/main/docs/containers-auth.json.5.md
"""

EXAMPLES = r"""
- name: Keep an ECR login fresh in the build user's Docker config (run it hourly)
  regcred.k8s.registry_credentials:
    dest: /home/builder/.docker/config.json
    return_secrets: false
    refresh_before: 6h
    registries:
      - provider: ecr
        region: eu-central-1
        registry_ids: ["123456789012"]

- name: Mint a GCR access token for a Docker agent
  regcred.k8s.registry_credentials:
    registries:
      - provider: gcr
        server: europe-docker.pkg.dev
        auth: access_token
        service_account_key_file: /etc/agent/puller.json
  no_log: true
  register: gar

- name: Log the Docker daemon in with it
  community.docker.docker_login:
    registry_url: "{{ item.server }}"
    username: "{{ item.username }}"
    password: "{{ item.password }}"
    reauthorize: true
  loop: "{{ gar.credentials }}"
  loop_control:
    label: "{{ item.server }}"
  no_log: true

- name: The same for Podman
  containers.podman.podman_login:
    registry: "{{ item.server }}"
    username: "{{ item.username }}"
    password: "{{ item.password }}"
  loop: "{{ gar.credentials }}"
  loop_control:
    label: "{{ item.server }}"
  no_log: true

- name: Write a Harbor robot account into a Podman auth file, checked against the registry first
  regcred.k8s.registry_credentials:
    dest: "/run/user/{{ builder_uid }}/containers/auth.json"
    return_secrets: false
    verify: true
    registries:
      - provider: basic
        server: harbor.example.com
        username: robot$ci
        password: "{{ harbor_robot_secret }}"

- name: Audit which registries a host logs in to, and when the tokens expire
  regcred.k8s.registry_credentials:
    return_secrets: false
    registries:
      - provider: acr
        server: myregistry.azurecr.io
        auth: token_exchange
        tenant_id: "{{ azure_tenant }}"
        client_id: "{{ azure_client_id }}"
        client_secret: "{{ azure_client_secret }}"
  register: audit
"""

RETURN = r"""
credentials:
  description:
    - One entry per credential, in the order of O(registries). An ECR entry gives one per registry.
  returned: always
  type: list
  elements: dict
  contains:
    server:
      description: The registry, as the key of the auth file entry.
      type: str
      sample: 123456789012.dkr.ecr.eu-central-1.amazonaws.com
    username:
      description: The user name.
      type: str
      sample: AWS
    password:
      description: The password or token. Only with O(return_secrets=true), which needs C(no_log).
      type: str
      returned: when O(return_secrets=true)
      sample: eyJwYXlsb2FkIjoi...
    provider:
      description: The provider that made it.
      type: str
      sample: ecr
    expires_at:
      description: When it expires (UTC, ISO 8601), or null.
      type: str
      sample: "2026-11-22T18:00:00Z"
    reused:
      description: True when the token stored in O(dest) was still fresh and nothing was minted.
      type: bool
      sample: false
expires_at:
  description: The earliest expiry of the credentials, or null when none expires.
  returned: always
  type: str
  sample: "2026-11-22T18:00:00Z"
"""

import contextlib
import datetime
import os

from ansible.module_utils.common.parameters import remove_values

from ansible_collections.regcred.k8s.plugins.module_utils import auth_file
from ansible_collections.regcred.k8s.plugins.module_utils import minting
from ansible_collections.regcred.k8s.plugins.module_utils.duration import parse_duration
from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError
from ansible_collections.regcred.k8s.plugins.module_utils.module import RegcredModule
from ansible_collections.regcred.k8s.plugins.module_utils.providers import MintContext
from ansible_collections.regcred.k8s.plugins.module_utils.registries_spec import REGISTRIES_ARG_SPEC


def argument_spec():
    spec = dict(
        return_secrets=dict(type="bool", default=True),
        dest=dict(type="path"),
        refresh_before=dict(type="raw", default="6h"),
        verify=dict(type="bool", default=False),
    )
    spec.update(REGISTRIES_ARG_SPEC)
    return spec


def validate(params):
    """Every check that needs no network; returns (refresh_before, sources)."""
    if not params["registries"]:
        raise InputError("registries", "list at least one registry")
    return parse_duration(params["refresh_before"], "refresh_before"), minting.sources(params["registries"])


class Run:
    """One task run: gets the credentials, merges them into ``dest`` if given, and reports."""

    def __init__(self, module, refresh_before, sources):
        self.module, self.params = module, module.params
        self.refresh_before, self.sources = refresh_before, sources
        self.now = datetime.datetime.now(datetime.timezone.utc)
        self.context = MintContext.from_params(self.params)
        self.changed, self.diff, self.collected = False, None, None

    def collect(self, stores=None):
        collected = minting.collect(self.sources, self.refresh_before, self.now, self.context, stores)
        if self.params["verify"] and collected.minted():
            minting.verify(collected.minted(), self.context)
        self.collected = collected

    def to_dest(self):
        # Write through a symbolic link; a rename onto the link would replace it with a file.
        path = os.path.realpath(self.params["dest"])
        check = self.module.check_mode
        if not check:
            auth_file.make_parents(path)
        # Check mode creates nothing, not even the lock file, and only reads.
        with contextlib.nullcontext() if check else auth_file.locked(path):
            found, found_records = auth_file.read(path)
            self.collect([auth_file.stored(found, found_records)])
            entries, minted_records = self.collected.entries(), self.collected.records()
            # docker login and podman login take no lock: read again, so that what they wrote while
            # we minted and verified is merged rather than lost.
            doc, records = auth_file.read(path)
            new_doc = auth_file.merge(doc, entries)
            new_records = auth_file.merge_records(records, minted_records, new_doc)
            write_doc, write_records = new_doc != doc, new_records != records
            self.changed = write_doc or write_records
            if self.changed and self.module._diff:
                before, after = auth_file.diff(doc, new_doc, entries, minted_records)
                self.diff = {"before_header": path, "after_header": path, "before": before, "after": after}
            if check:
                return
            # The auth file first: if the sidecar write then fails, the next run finds no fresh record
            # and mints again; the other order could vouch for a token that was never written.
            if write_doc:
                auth_file.write_atomic(path, auth_file.serialize(new_doc))
            if write_records:
                auth_file.write_atomic(auth_file.sidecar_path(path), auth_file.serialize_sidecar(new_records))

    def execute(self):
        if self.params["dest"]:
            self.to_dest()
        else:
            self.collect()

    def report(self):
        credentials = []
        for item, got in zip(self.collected.report(), self.collected.got):
            shown = dict((k, item.get(k)) for k in ("server", "username", "provider", "expires_at", "reused"))
            if self.params["return_secrets"]:
                shown["password"] = got.credential.password
            credentials.append(shown)
        expiries = sorted(c["expires_at"] for c in credentials if c["expires_at"])
        result = {"changed": self.changed, "credentials": credentials, "expires_at": expiries[0] if expiries else None}
        if self.diff:
            result["diff"] = self.diff
        for warning in self.collected.warnings:
            self.module.warn(warning)
        if self.params["return_secrets"]:
            exit_with_secrets(self.module, result)
        else:
            self.module.exit_json(**result)


def exit_with_secrets(module, result):
    """exit_json with the passwords in ``credentials`` intact and everything else masked.

    exit_json runs remove_values(result, module.no_log_values) over the whole result
    (AnsibleModule._return_formatted in ansible/module_utils/basic.py): the password of a basic
    entry, itself a no_log option, would come back as VALUE_SPECIFIED_IN_NO_LOG_PARAMETER, and a
    token that happened to contain a short no_log value would be corrupted. So the rest of the
    result, invocation included, is masked here and the credentials are left out of the masking.
    """
    credentials = result.pop("credentials")
    safe = remove_values(dict(result, invocation={"module_args": module.params}), module.no_log_values)
    module.no_log_values = set()
    module.exit_json(credentials=credentials, **safe)


def main():
    module = RegcredModule("registry_credentials", argument_spec(), kube=False, registry_tls=True)

    def check(params):
        checked = validate(params)
        # The action plugin already refused a task without no_log. This second check covers the module
        # run some other way (ansible -m through another action, or AnsiballZ by hand): module.no_log is
        # the task's no_log OR no_target_syslog (ActionBase._execute_module in ansible-core 2.19), so it
        # is weaker, but never wrong in the other direction. A returned value cannot be hidden by
        # no_log_values (later tasks could not use it), so the whole result must be hidden, and only the
        # task can ask for that.
        if params["return_secrets"] and not module.no_log:
            raise InputError("return_secrets", minting.NEEDS_NO_LOG, prefixed=False)
        return checked

    def execute(kube, checked):
        run = Run(module, *checked)
        run.execute()
        run.report()

    module.run(check, execute)


if __name__ == "__main__":
    main()
