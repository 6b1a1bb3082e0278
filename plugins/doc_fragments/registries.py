# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  registries:
    description:
      - The registries to write credentials for. Each entry is one credential source; all
        entries together make one C(.dockerconfigjson).
      - Which options apply depends on O(registries[].provider).
    type: list
    elements: dict
    suboptions:
      provider:
        description:
          - Where the credential comes from.
          - V(dockerhub) writes O(registries[].username) and O(registries[].password) (or a
            personal access token) under the key C(https://index.docker.io/v1/), as
            C(kubectl create secret docker-registry) does.
          - V(basic) writes O(registries[].username) and O(registries[].password) for
            O(registries[].server), for any Docker v2 registry (Quay, Harbor, GHCR, GitLab,
            self-hosted).
          - V(docker_config) copies entries from a Docker C(config.json), read from
            O(registries[].path) or given inline as O(registries[].content).
          - V(ecr) mints an Amazon ECR token with boto3, one entry per registry (and per host form,
            see O(registries[].host_forms)).
          - V(ecr_public) mints an Amazon ECR Public token with boto3 for C(public.ecr.aws). The
            API is called in us-east-1, the only region that serves it.
          - V(gcr) writes a Google service-account key or mints a short-lived access token for
            Container Registry or Artifact Registry.
          - V(acr) writes an Azure service principal or exchanges an Azure AD token (service
            principal, managed identity or workload identity) for an ACR refresh token.
        type: str
        required: true
        choices: [acr, basic, docker_config, dockerhub, ecr, ecr_public, gcr]
      server:
        description:
          - The registry host (and optional port), for example V(quay.io),
            V(europe-docker.pkg.dev) or V(myregistry.azurecr.io). It becomes the key of the entry.
          - Required for V(basic), V(gcr) and V(acr). Not used by V(dockerhub); refused for V(ecr),
            whose registries come from ECR's answer, and for V(ecr_public), which writes
            C(public.ecr.aws).
          - Checked as the kubelet reads the keys of a C(.dockerconfigjson), before anything is
            written. A host is required, with an optional port from 1 to 65535. An optional
            C(https://) or C(http://) (lower case) and a path that is a prefix of a repository (V(quay.io/org))
            are allowed, as are V([::1]:5000) and C(*) globs in host labels (V(*.example.com)).
            User information, a query, a fragment, white space, and a host without a dot or port
            other than V(localhost) are refused. For V(acr), only a host and port; a bare registry
            name (no dot, no port) gets the suffix of O(registries[].cloud).
        type: str
      username:
        description:
          - The user name, for V(dockerhub) and V(basic).
        type: str
      password:
        description:
          - The password or access token, for V(dockerhub) and V(basic).
        type: str
      email:
        description:
          - An e-mail address stored with the entry, for V(dockerhub) and V(basic). Kept for
            compatibility; registries ignore it.
        type: str
      path:
        description:
          - For V(docker_config), the path of a Docker C(config.json), for example
            C(~/.docker/config.json) or C(${XDG_RUNTIME_DIR}/containers/auth.json).
          - Mutually exclusive with O(registries[].content).
          - A file without registry entries (an empty C(auths)) fails the task; it never
            empties a Secret or an auth file.
        type: path
      content:
        description:
          - For V(docker_config), the content of a Docker C(config.json), as a JSON string or a
            dictionary.
          - Content without registry entries fails the task, as for O(registries[].path).
        type: raw
      servers:
        description:
          - For V(docker_config), copy only these registries. Each one must be in the file, and is
            checked like O(registries[].server).
          - Default is every entry of the file.
        type: list
        elements: str
      region:
        description:
          - For V(ecr), the AWS region of the registries. Required.
          - For V(ecr_public), leave it out or set V(us-east-1), the only region of ECR Public's API.
        type: str
      registry_ids:
        description:
          - For V(ecr), the AWS account IDs of the registries. Default is the caller's account.
          - At most 10, as ECR's C(GetAuthorizationToken) takes; more fail the task before any
            call. Use several entries for more registries.
        type: list
        elements: str
      host_forms:
        description:
          - For V(ecr), the host names to write each registry under, as pods name it in their
            images. V(standard) is C(ACCOUNT.dkr.ecr.REGION.amazonaws.com), V(fips)
            C(ACCOUNT.dkr.ecr-fips.REGION.amazonaws.com) and V(dualstack) (IPv4 and IPv6)
            C(ACCOUNT.dkr-ecr.REGION.on.aws).
          - The partition comes from the registry ECR names, so China regions get
            C(amazonaws.com.cn) and the ISO partitions C(c2s.ic.gov) and C(sc2s.sgov.gov).
            V(dualstack) exists in the aws partition only and fails the task elsewhere.
          - Default is the registry as ECR names it in its answer, that is the standard form, or the
            FIPS one when O(registries[].endpoint_url) is a FIPS API endpoint.
        type: list
        elements: str
        choices: [standard, fips, dualstack]
      profile:
        description:
          - For V(ecr) and V(ecr_public), a profile from the AWS config and credentials files.
        type: str
      access_key:
        description:
          - For V(ecr) and V(ecr_public), an AWS access key ID, given together with O(registries[].secret_key).
            Default is the standard AWS credential chain (environment, profile, web identity or
            IRSA, instance role).
        type: str
      secret_key:
        description:
          - For V(ecr) and V(ecr_public), the AWS secret access key that goes with O(registries[].access_key).
        type: str
      session_token:
        description:
          - For V(ecr) and V(ecr_public), an AWS session token for temporary credentials. Needs
            O(registries[].access_key) and O(registries[].secret_key).
        type: str
      assume_role_arn:
        description:
          - For V(ecr) and V(ecr_public), a role to assume with STS before asking ECR for a token.
        type: str
      endpoint_url:
        description:
          - For V(ecr), the ECR API endpoint, for VPC endpoints or other partitions. The standard
            variable E(AWS_ENDPOINT_URL_ECR) is honoured too.
          - For V(ecr_public), the ECR Public API endpoint; the standard variable
            E(AWS_ENDPOINT_URL_ECR_PUBLIC) is honoured too.
        type: str
      auth:
        description:
          - For V(gcr), V(json_key) writes the key itself with user name C(_json_key);
            V(json_key_base64) writes it base64-encoded with user name C(_json_key_base64);
            V(access_token) mints a one-hour OAuth2 access token with user name
            C(oauth2accesstoken).
          - For V(acr), V(service_principal) writes the client ID and secret as user name and
            password. The other methods get a Microsoft Entra ID (Azure AD) token with azure-identity
            and exchange it for an ACR refresh token (about three hours), written with user name
            C(00000000-0000-0000-0000-000000000000). V(token_exchange) uses the client secret of a
            service principal; V(managed_identity) the Azure Instance Metadata Service of the
            machine (system-assigned, or the user-assigned identity that O(registries[].client_id)
            or O(registries[].resource_id) names); V(workload_identity) with the Kubernetes
            ServiceAccount token AKS projects into a pod (O(registries[].federated_token_file)).
          - The exchange goes to C(/oauth2/exchange) on the host of the realm that the login
            server's C(/v2/) challenge names, with the challenge's C(service), as Azure's own tools do.
        type: str
        choices: [json_key, json_key_base64, access_token, service_principal, token_exchange, managed_identity,
                  workload_identity]
      service_account_key_file:
        description:
          - For V(gcr), the path of a Google credential file. Mutually exclusive with
            O(registries[].service_account_key); V(json_key) and V(json_key_base64) need one of them.
          - V(json_key) and V(json_key_base64) take a service-account key only (C(type) C(service_account)),
            the only file the registry accepts as a password.
          - V(access_token) takes any credential file google-auth loads, each with its own loader, namely
            C(service_account), C(authorized_user) (C(gcloud auth application-default login)),
            C(external_account) (workload identity federation, for example a file-sourced
            Kubernetes ServiceAccount token), C(impersonated_service_account) and
            C(external_account_authorized_user).
          - With O(registries[].auth=access_token), leave out both key options to use
            application default credentials (E(GOOGLE_APPLICATION_CREDENTIALS), gcloud, then the
            GCE or GKE metadata server).
        type: path
      service_account_key:
        description:
          - For V(gcr), the credential file's content itself, as a string or a dictionary; the
            same types as O(registries[].service_account_key_file).
        type: raw
      tenant_id:
        description:
          - For V(acr), the Azure AD tenant (a GUID or a domain). Required with V(token_exchange);
            with V(workload_identity) the default is E(AZURE_TENANT_ID).
        type: str
      client_id:
        description:
          - For V(acr), the application (client) ID of the service principal. Required with
            V(service_principal) and V(token_exchange).
          - With V(workload_identity), the client ID of the app or user-assigned identity whose
            federated credential trusts the ServiceAccount; the default is E(AZURE_CLIENT_ID).
          - With V(managed_identity), the client ID of a user-assigned identity; leave it out for
            the system-assigned identity.
        type: str
      client_secret:
        description:
          - For V(acr), the client secret of the service principal. Required with
            V(service_principal) and V(token_exchange); refused with the other methods.
        type: str
      authority_host:
        description:
          - For V(acr) with V(token_exchange) or V(workload_identity), the Azure AD authority.
          - Default is the environment variable E(AZURE_AUTHORITY_HOST), and then the host of
            O(registries[].cloud). It must use https; a bare host name gets C(https://). A host
            other than those of the three clouds is trusted as given (no instance discovery), as
            for Azure Stack.
        type: str
      audience:
        description:
          - For V(acr), the audience of the Azure AD token that is exchanged.
          - V(acr) (the default) asks for C(https://containerregistry.azure.net/.default), as the
            Kubernetes ACR credential provider and C(az acr login) do.
          - V(arm) asks for the Azure Resource Manager audience of the cloud
            (C(https://management.azure.com/.default) in the public cloud), which registries that
            predate ACR audience tokens need. Registries with ARM audience token authentication
            disabled refuse it.
        type: str
        choices: [acr, arm]
      cloud:
        description:
          - For V(acr), the Azure cloud, which sets the authority host, the ARM audience and the
            suffix a bare registry name in O(registries[].server) gets.
          - V(public) (default) C(login.microsoftonline.com), C(management.azure.com), C(azurecr.io);
            V(china) C(login.chinacloudapi.cn), C(management.chinacloudapi.cn), C(azurecr.cn);
            V(us_government) C(login.microsoftonline.us), C(management.usgovcloudapi.net), C(azurecr.us).
        type: str
        choices: [china, public, us_government]
      resource_id:
        description:
          - For V(acr) with V(managed_identity), the Azure resource ID of a user-assigned identity
            (C(/subscriptions/.../userAssignedIdentities/NAME)). Mutually exclusive with
            O(registries[].client_id).
        type: str
      federated_token_file:
        description:
          - For V(acr) with V(workload_identity), the file with the ServiceAccount token (audience
            C(api://AzureADTokenExchange)) that is presented to Azure AD. The default is
            E(AZURE_FEDERATED_TOKEN_FILE), which AKS sets in pods that use workload identity.
        type: path
"""
