"""registry_credentials against the local registries, moto and the local Google and Azure
endpoints: what it returns, the auth file it writes (read back by skopeo), and what it never shows."""

import base64
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import testenv

MODULE = "regcred.k8s.registry_credentials"
REGISTRIES = ("REGCRED_REGISTRY_BASIC", "REGCRED_REGISTRY_BEARER")


def basic(env, key="REGCRED_REGISTRY_BASIC", password=None):
    return {"provider": "basic", "server": env[key], "username": env["REGCRED_REGISTRY_USER"],
            "password": password or env["REGCRED_REGISTRY_PASSWORD"]}


def gcr(env):
    return {"provider": "gcr", "server": "europe-docker.pkg.dev", "auth": "access_token",
            "service_account_key_file": env["REGCRED_GCP_KEY_FILE"]}


def acr(env):
    return {"provider": "acr", "server": env["REGCRED_AZURE_REGISTRY"], "auth": "token_exchange",
            "tenant_id": env["REGCRED_AZURE_TENANT_ID"], "client_id": env["REGCRED_AZURE_CLIENT_ID"],
            "client_secret": env["REGCRED_AZURE_CLIENT_SECRET"], "authority_host": env["REGCRED_AZURE_AUTHORITY"]}


def ecr(env):
    return {"provider": "ecr", "region": env["REGCRED_AWS_REGION"], "registry_ids": ["123456789012"],
            "access_key": env["REGCRED_AWS_ACCESS_KEY_ID"], "secret_key": env["REGCRED_AWS_SECRET_ACCESS_KEY"]}


def ecr_public(env):
    return {"provider": "ecr_public", "access_key": env["REGCRED_AWS_ACCESS_KEY_ID"],
            "secret_key": env["REGCRED_AWS_SECRET_ACCESS_KEY"]}


def ecr_server(env):
    return "123456789012.dkr.ecr.%s.amazonaws.com" % env["REGCRED_AWS_REGION"]


def moto(env):
    """The AWS endpoints of the local environment: moto for ECR, the emulator for ECR Public."""
    return {name: env[name] for name in ("AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL_ECR_PUBLIC")}


def issued(env):
    return Path(env["REGCRED_ISSUED_TOKENS"]).read_text().split()


def run(env, args, tmp_path, **kwargs):
    return testenv.run_task(env, MODULE, args, tmp_path, **kwargs)


def auths(path):
    return json.loads(Path(path).read_text())["auths"]


def login(path, server):
    user, _sep, password = base64.b64decode(auths(path)[server]["auth"]).decode().partition(":")
    return user, password


def identity(path):
    info = os.stat(path)
    return info.st_ino, info.st_mtime_ns


def b64(user, password):
    return base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


@pytest.fixture(name="dest")
def dest_fixture(tmp_path):
    return tmp_path / "home" / ".docker" / "config.json"


@pytest.mark.parametrize("registry", REGISTRIES)
def test_basic_auth_file_is_read_by_skopeo(env, tmp_path, dest, registry):
    args = {"dest": str(dest), "return_secrets": False, "verify": True, "registry_ca_path": env["REGCRED_REGISTRY_CA"],
            "registries": [basic(env, key) for key in REGISTRIES]}
    result = run(env, args, tmp_path)
    assert not result.failed, result.result
    assert result.result["changed"] is True
    assert [(c["server"], c["username"]) for c in result.result["credentials"]] == [
        (env[key], env["REGCRED_REGISTRY_USER"]) for key in REGISTRIES]
    assert all("password" not in c for c in result.result["credentials"])
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert stat.S_IMODE(dest.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(dest.parent.parent.stat().st_mode) == 0o700
    assert login(dest, env[registry]) == (env["REGCRED_REGISTRY_USER"], env["REGCRED_REGISTRY_PASSWORD"])
    sidecar = Path(str(dest) + ".regcred.json").read_text()
    assert env["REGCRED_REGISTRY_PASSWORD"] not in sidecar
    assert b64(env["REGCRED_REGISTRY_USER"], env["REGCRED_REGISTRY_PASSWORD"]) not in sidecar

    inspected = testenv.skopeo_inspect(env, f"{env[registry]}/{env['REGCRED_TEST_IMAGE']}", dest)
    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout)["Digest"] == env["REGCRED_TEST_IMAGE_DIGEST"]


def test_other_keys_survive_and_the_same_registry_is_replaced(env, tmp_path, dest):
    dest.parent.mkdir(parents=True)
    existing = {
        "auths": {"quay.io": {"auth": b64("q", "x")}, "ghcr.io": {},
                  # the same registry as ours, spelled as a URL: replaced, not kept beside ours
                  "https://%s/" % env["REGCRED_REGISTRY_BASIC"]: {"auth": b64("old", "stale")}},
        "credHelpers": {"ghcr.io": "gh", "123456789012.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"},
        "credsStore": "desktop",
        "proxies": {"default": {"httpProxy": "http://proxy.example:3128", "noProxy": "127.0.0.1"}},
        "HttpHeaders": {"X-Meta": "kept"},
    }
    dest.write_text(json.dumps(existing, indent=4))
    dest.chmod(0o644)
    result = run(env, {"dest": str(dest), "return_secrets": False, "registries": [basic(env)]}, tmp_path, diff=True)
    assert result.result["changed"] is True, result.result
    after = json.loads(dest.read_text())
    for key in ("credHelpers", "credsStore", "proxies", "HttpHeaders"):
        assert after[key] == existing[key]
    assert set(after["auths"]) == {"quay.io", "ghcr.io", env["REGCRED_REGISTRY_BASIC"]}
    assert after["auths"]["quay.io"] == existing["auths"]["quay.io"] and after["auths"]["ghcr.io"] == {}
    shown = result.result["diff"]["after"]["auths"][env["REGCRED_REGISTRY_BASIC"]]
    assert shown == {"username": env["REGCRED_REGISTRY_USER"], "credential": "changed", "expires_at": None}
    assert stat.S_IMODE(dest.stat().st_mode) == 0o644


def test_rerun_with_the_same_credentials_does_not_rewrite(env, tmp_path, dest):
    args = {"dest": str(dest), "return_secrets": False, "registries": [basic(env)]}
    assert run(env, args, tmp_path).result["changed"] is True
    before = identity(dest), identity(str(dest) + ".regcred.json")
    again = run(env, args, tmp_path, diff=True)
    assert again.result["changed"] is False and "diff" not in again.result
    assert (identity(dest), identity(str(dest) + ".regcred.json")) == before

    rotated = run(env, dict(args, registries=[basic(env, password="rotated-pw")]), tmp_path, diff=True)
    assert rotated.result["changed"] is True
    assert rotated.result["diff"]["after"]["auths"][env["REGCRED_REGISTRY_BASIC"]]["credential"] == "changed"
    assert login(dest, env["REGCRED_REGISTRY_BASIC"])[1] == "rotated-pw"
    assert "rotated-pw" not in rotated.stdout + rotated.stderr


def test_check_mode_writes_no_file_and_the_diff_shows_no_secret(env, tmp_path, dest):
    args = {"dest": str(dest), "return_secrets": False, "registries": [basic(env, key) for key in REGISTRIES]}
    result = run(env, args, tmp_path, check=True, diff=True, verbosity=4)
    assert result.result["changed"] is True, result.result
    assert not dest.parent.parent.exists(), "check mode created a directory"
    shown = result.result["diff"]["after"]["auths"]
    assert shown[env["REGCRED_REGISTRY_BEARER"]] == {"username": env["REGCRED_REGISTRY_USER"], "credential": "added",
                                                     "expires_at": None}
    output = result.stdout + result.stderr
    assert env["REGCRED_REGISTRY_PASSWORD"] not in output
    assert b64(env["REGCRED_REGISTRY_USER"], env["REGCRED_REGISTRY_PASSWORD"]) not in output

    dest.parent.mkdir(parents=True)
    dest.write_text('{"auths": {}}')
    before = identity(dest)
    assert run(env, args, tmp_path, check=True).result["changed"] is True
    assert identity(dest) == before and sorted(os.listdir(dest.parent)) == ["config.json"]


def test_gcr_access_token_is_reused_from_the_file_until_refresh_before(env, tmp_path, dest):
    args = {"dest": str(dest), "return_secrets": False, "refresh_before": "10m", "registries": [gcr(env)]}
    first = run(env, args, tmp_path)
    assert first.result["changed"] is True and first.result["credentials"][0]["reused"] is False, first.result
    user, token = login(dest, "europe-docker.pkg.dev")
    assert user == "oauth2accesstoken" and token in issued(env)
    assert first.result["expires_at"] is not None
    assert first.result["expires_at"] == first.result["credentials"][0]["expires_at"]
    sidecar = json.loads(Path(str(dest) + ".regcred.json").read_text())["credentials"]
    assert [(r["server"], r["provider"], r["expires_at"]) for r in sidecar] == [
        ("europe-docker.pkg.dev", "gcr", first.result["expires_at"])]

    minted, before = len(issued(env)), identity(dest)
    second = run(env, args, tmp_path)
    assert second.result["changed"] is False and second.result["credentials"][0]["reused"] is True
    assert len(issued(env)) == minted, "a fresh token was minted again"
    assert identity(dest) == before

    secret = run(env, dict(args, return_secrets=True), tmp_path, no_log=True)
    assert secret.result["credentials"][0]["password"] == token
    assert len(issued(env)) == minted

    third = run(env, dict(args, refresh_before="2h"), tmp_path)
    assert third.result["changed"] is True and third.result["credentials"][0]["reused"] is False
    assert len(issued(env)) == minted + 1
    assert login(dest, "europe-docker.pkg.dev")[1] != token
    output = "".join(r.stdout + r.stderr for r in (first, second, secret, third))
    assert not [t for t in issued(env) if t in output]


def test_ecr_token_from_moto_is_written_and_honestly_expired(env, tmp_path, dest):
    args = {"dest": str(dest), "return_secrets": False, "registries": [ecr(env)]}
    result = run(env, args, tmp_path, extra_env=moto(env))
    assert result.result["changed"] is True, result.result
    assert login(dest, ecr_server(env))[0] == "AWS"
    assert result.result["expires_at"].startswith("2015-")
    assert any("within refresh_before" in w for w in result.result.get("warnings", []))
    assert env["REGCRED_AWS_SECRET_ACCESS_KEY"] not in result.stdout + result.stderr
    # Already expired: every run mints, and the credential is never marked reused.
    again = run(env, args, tmp_path, extra_env=moto(env))
    assert again.result["credentials"][0]["reused"] is False


def test_acr_token_exchange_with_registry_ca_path(env, tmp_path, dest):
    # The emulated ACR refresh token lives 3 h, so a 1 h window lets a rerun reuse it.
    args = {"dest": str(dest), "return_secrets": False, "verify": True, "refresh_before": "1h",
            "registry_ca_path": env["REGCRED_AZURE_CA"], "registries": [acr(env)]}
    result = run(env, args, tmp_path)
    assert result.result["changed"] is True, result.result
    user, token = login(dest, env["REGCRED_AZURE_REGISTRY"])
    assert user == "00000000-0000-0000-0000-000000000000" and token in issued(env)
    assert result.result["expires_at"] is not None
    again = run(env, args, tmp_path)
    assert again.result["changed"] is False and again.result["credentials"][0]["reused"] is True

    wrong = run(env, dict(args, registries=[dict(acr(env), client_secret="not-it")], refresh_before="5h"), tmp_path)
    assert wrong.failed and "registries[0].client_secret" in wrong.result["msg"]
    assert "not-it" not in wrong.stdout + wrong.stderr
    assert login(dest, env["REGCRED_AZURE_REGISTRY"])[1] == token


def test_docker_config_provider_copies_into_another_file(env, tmp_path, dest):
    source = tmp_path / "source.json"
    source.write_text(json.dumps({"auths": {
        env[key]: {"auth": b64(env["REGCRED_REGISTRY_USER"], env["REGCRED_REGISTRY_PASSWORD"])} for key in REGISTRIES}}))
    args = {"dest": str(dest), "return_secrets": False,
            "registries": [{"provider": "docker_config", "path": str(source), "servers": [env["REGCRED_REGISTRY_BEARER"]]}]}
    result = run(env, args, tmp_path)
    assert result.result["changed"] is True, result.result
    assert set(auths(dest)) == {env["REGCRED_REGISTRY_BEARER"]}
    inspected = testenv.skopeo_inspect(env, f"{env['REGCRED_REGISTRY_BEARER']}/{env['REGCRED_TEST_IMAGE']}", dest)
    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout)["Digest"] == env["REGCRED_TEST_IMAGE_DIGEST"]


@pytest.mark.parametrize("with_dest", [False, True])
def test_refuses_to_return_secrets_without_no_log(env, tmp_path, dest, with_dest):
    args = {"registries": [basic(env), gcr(env)], **({"dest": str(dest)} if with_dest else {})}
    minted = len(issued(env))
    result = run(env, args, tmp_path, verbosity=4)
    assert result.failed
    assert "no_log: true" in result.result["msg"] and "return_secrets: false" in result.result["msg"]
    assert len(issued(env)) == minted, "a token was minted before refusing"
    assert not dest.parent.parent.exists()
    assert env["REGCRED_REGISTRY_PASSWORD"] not in result.stdout + result.stderr


def test_no_log_returns_the_secrets_to_the_registered_variable(env, tmp_path, dest):
    minted = len(issued(env))
    args = {"dest": str(dest), "registries": [basic(env, key) for key in REGISTRIES] + [gcr(env)]}
    result = run(env, args, tmp_path, no_log=True)
    assert not result.failed, result.result
    creds = dict((c["server"], c) for c in result.result["credentials"])
    # The basic password is itself a no_log option: it must come back whole, not masked.
    for key in REGISTRIES:
        assert creds[env[key]]["password"] == env["REGCRED_REGISTRY_PASSWORD"]
    token = creds["europe-docker.pkg.dev"]["password"]
    assert token in issued(env)[minted:]
    assert login(dest, "europe-docker.pkg.dev") == ("oauth2accesstoken", token)
    assert env["REGCRED_REGISTRY_PASSWORD"] not in result.stdout + result.stderr
    assert token not in result.stdout + result.stderr


@pytest.mark.parametrize("no_log", [True, False])
def test_raw_module_output_masks_the_options_in_invocation(tmp_path, no_log):
    # A registered result carries no invocation, so only the module's own output shows it.
    import collection_path  # pylint: disable=import-outside-toplevel

    secrets = ["pw-secret-1", "cs-secret-2", "pw-secret-3", b64("zu", "pw-secret-3")]
    args = {"_ansible_no_log": no_log, "return_secrets": no_log, "registries": [
        {"provider": "basic", "server": "x.io", "username": "u", "password": secrets[0]},
        {"provider": "acr", "server": "y.azurecr.io", "auth": "service_principal", "client_id": "c",
         "client_secret": secrets[1]},
        {"provider": "docker_config", "content": {"auths": {"z.io": {"username": "zu", "password": secrets[2]}}}}]}
    (tmp_path / "args.json").write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    module = collection_path.ROOT / "plugins" / "modules" / "registry_credentials.py"
    proc = subprocess.run([sys.executable, str(module), str(tmp_path / "args.json")], capture_output=True, text=True,
                          timeout=60, check=False, env=dict(os.environ, PYTHONPATH=str(collection_path.ensure())))
    output = json.loads(proc.stdout)
    assert not output.get("failed"), output
    invocation = json.dumps(output["invocation"])
    assert [s for s in secrets if s in invocation] == []
    assert invocation.count("VALUE_SPECIFIED_IN_NO_LOG_PARAMETER") >= 3
    passwords = [c.get("password") for c in output["credentials"]]
    assert passwords == (secrets[:3] if no_log else [None] * 3)


def test_return_secrets_false_works_without_no_log(env, tmp_path):
    result = run(env, {"return_secrets": False, "registries": [basic(env), gcr(env)]}, tmp_path)
    assert not result.failed, result.result
    assert result.result["changed"] is False
    assert [sorted(c) for c in result.result["credentials"]] == [
        ["expires_at", "provider", "reused", "server", "username"]] * 2
    assert result.result["credentials"][0]["expires_at"] is None
    assert result.result["credentials"][1]["expires_at"] is not None
    assert result.result["expires_at"] == result.result["credentials"][1]["expires_at"]


@pytest.mark.parametrize("no_log", [False, True])
@pytest.mark.parametrize("with_dest", [False, True])
def test_no_secret_in_vvvv_output(env, tmp_path, dest, no_log, with_dest):
    minted = len(issued(env))
    args = {"return_secrets": no_log, "registry_ca_path": env["REGCRED_AZURE_CA"],
            "registries": [basic(env), gcr(env), acr(env), ecr(env)], **({"dest": str(dest)} if with_dest else {})}
    result = run(env, args, tmp_path, verbosity=4, no_log=no_log, extra_env=moto(env))
    assert not result.failed, result.result
    secrets = [env["REGCRED_REGISTRY_PASSWORD"], b64(env["REGCRED_REGISTRY_USER"], env["REGCRED_REGISTRY_PASSWORD"]),
               env["REGCRED_AZURE_CLIENT_SECRET"], env["REGCRED_AWS_SECRET_ACCESS_KEY"]]
    secrets += issued(env)[minted:]
    assert len(issued(env)) - minted >= 2, "the GCR and ACR tokens were not minted"
    if with_dest:
        ecr_user, ecr_token = login(dest, ecr_server(env))
        secrets += [ecr_token, b64(ecr_user, ecr_token)]
        secrets += [a["auth"] for a in auths(dest).values()]
    if no_log:
        secrets += [c["password"] for c in result.result["credentials"]]
    output = result.stdout + result.stderr
    assert "<localhost>" in output, "not a -vvvv run"
    assert [s for s in secrets if s in output] == []


WRITER = r"""
import base64, fcntl, json, os, sys, tempfile, time
path, stop, done = sys.argv[1:4]
count = 0
while not os.path.exists(stop):
    with open(path + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if os.stat(path + ".lock").st_ino != os.fstat(lock.fileno()).st_ino:
                continue  # the holder before removed this lock file: lock the current one
        except FileNotFoundError:
            continue
        try:
            with open(path) as handle:
                doc = json.load(handle)
        except FileNotFoundError:
            doc = {}
        time.sleep(0.2)  # a slow writer: a run that ignored the lock would read and write in here
        doc.setdefault("auths", {})["writer-%d.example" % count] = {"auth": base64.b64encode(b"w:p").decode()}
        fd, temp = tempfile.mkstemp(dir=os.path.dirname(path))
        with os.fdopen(fd, "w") as handle:
            json.dump(doc, handle)
        os.replace(temp, path)
    count += 1
    time.sleep(0.05)
with open(done, "w") as handle:
    handle.write(str(count))
"""


def test_a_concurrent_writer_keeps_its_entries(env, tmp_path, dest):
    dest.parent.mkdir(parents=True)
    stop, done = tmp_path / "stop", tmp_path / "done"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(dest), str(stop), str(done)])
    try:
        while not dest.exists():
            time.sleep(0.05)
        results = {}

        def one(key):
            workdir = tmp_path / key
            workdir.mkdir()
            results[key] = run(env, {"dest": str(dest), "return_secrets": False, "registries": [basic(env, key)]},
                               workdir)

        threads = [threading.Thread(target=one, args=(key,)) for key in REGISTRIES]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not [r.result for r in results.values() if r.failed]
        one_more = run(env, {"dest": str(dest), "return_secrets": False, "registries": [basic(env)]}, tmp_path)
        assert not one_more.failed
    finally:
        stop.touch()
        writer.wait(30)
    written = int(done.read_text())
    assert written >= 3, "the writer hardly ran alongside the module"
    expected = {"writer-%d.example" % n for n in range(written)} | {env[key] for key in REGISTRIES}
    assert set(auths(dest)) == expected


# Each case: the arguments over a working base, and the field its error must name.
BAD_INPUT = {
    "no-registries": ({"registries": []}, "registries:"),
    "bad-refresh-before": ({"refresh_before": "soon"}, "refresh_before:"),
    "no-server": ({"registries": [{"provider": "basic", "username": "u", "password": "p"}]}, "registries[0].server"),
    "ecr-no-region": ({"registries": [{"provider": "basic", "server": "x.io", "username": "u", "password": "p"},
                                      {"provider": "ecr", "registry_ids": ["123456789012"]}]}, "registries[1].region"),
    "same-server-twice": ({"registries": [{"provider": "basic", "server": "x.io", "username": "u", "password": "p"},
                                          {"provider": "basic", "server": "https://x.io/", "username": "v", "password": "q"}]},
                          "registries[0] and registries[1] both write the registry x.io"),
}


@pytest.fixture(scope="module", name="bad_input")
def bad_input_fixture(env, tmp_path_factory):
    """The BAD_INPUT cases as the tasks of one play, each with its own dest; per case its run and dest."""
    tmp_path = tmp_path_factory.mktemp("bad-input")
    dests = {case: tmp_path / case / "home" / ".docker" / "config.json" for case in BAD_INPUT}
    runs = testenv.run_tasks(env, {case: (MODULE, dict({"dest": str(dests[case]), "return_secrets": False,
                                                        "registries": [basic(env)]}, **args))
                                   for case, (args, _field) in BAD_INPUT.items()}, tmp_path)
    return {case: (runs[case], dests[case]) for case in BAD_INPUT}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_names_the_field(bad_input, case):
    result, dest = bad_input[case]
    assert result.failed
    assert BAD_INPUT[case][1] in result.result["msg"]
    assert "Traceback" not in result.stdout + result.stderr
    assert not dest.exists()


def test_unusable_dest_fails_and_leaves_the_file(env, tmp_path, dest):
    dest.parent.mkdir(parents=True)
    dest.write_text("{ this is not json")
    result = run(env, {"dest": str(dest), "return_secrets": False, "registries": [basic(env)]}, tmp_path)
    assert result.failed and result.result["msg"].startswith("dest: ") and "not valid JSON" in result.result["msg"]
    assert dest.read_text() == "{ this is not json"
    directory = run(env, {"dest": str(dest.parent), "return_secrets": False, "registries": [basic(env)]}, tmp_path)
    assert directory.failed and "is a directory" in directory.result["msg"]
    assert "Traceback" not in result.stdout + result.stderr + directory.stdout + directory.stderr


def test_verify_refuses_a_bad_password_and_keeps_the_file(env, tmp_path, dest):
    good = {"dest": str(dest), "return_secrets": False, "registries": [basic(env, "REGCRED_REGISTRY_BEARER")]}
    assert not run(env, good, tmp_path).failed
    before, content = identity(dest), dest.read_bytes()
    bad = dict(good, verify=True, registry_ca_path=env["REGCRED_REGISTRY_CA"],
               registries=[basic(env, "REGCRED_REGISTRY_BEARER", password="wrong-password")])
    result = run(env, bad, tmp_path)
    assert result.failed and "verify" in result.result["msg"] and "Nothing was written" in result.result["msg"]
    assert "wrong-password" not in result.stdout + result.stderr
    assert identity(dest) == before and dest.read_bytes() == content


def test_no_target_syslog_does_not_stand_in_for_no_log(env, tmp_path):
    result = run(env, {"registries": [basic(env)]}, tmp_path, verbosity=1, extra_env={"ANSIBLE_NO_TARGET_SYSLOG": "1"})
    assert result.failed and "no_log: true" in result.result["msg"]
    assert env["REGCRED_REGISTRY_PASSWORD"] not in result.stdout


@pytest.mark.parametrize("mode", [0o400, 0o444, 0o640])
def test_an_existing_file_keeps_its_mode_owner_and_group(env, tmp_path, dest, mode):
    dest.parent.mkdir(parents=True)
    dest.write_text('{"auths": {}}')
    group = 1234 if mode == 0o640 else os.getegid()
    os.chown(dest, os.geteuid(), group)
    dest.chmod(mode)
    result = run(env, {"dest": str(dest), "return_secrets": False, "registries": [basic(env)]}, tmp_path)
    assert not result.failed and result.result["changed"] is True, result.result
    assert login(dest, env["REGCRED_REGISTRY_BASIC"])[0] == env["REGCRED_REGISTRY_USER"]
    info = dest.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (mode, os.geteuid(), group)
    assert sorted(os.listdir(dest.parent)) == ["config.json", "config.json.regcred.json"]


@pytest.mark.parametrize("linked", ["config.json", "config.json.regcred.json"])
def test_a_hard_linked_file_is_refused_before_anything_is_written(env, tmp_path, dest, linked):
    dest.parent.mkdir(parents=True)
    dest.write_text('{"auths": {}}')
    (dest.parent / "config.json.regcred.json").write_text('{"credentials": []}')
    other = tmp_path / "other-name.json"
    os.link(dest.parent / linked, other)
    before = {p.name: p.read_bytes() for p in dest.parent.iterdir()}
    result = run(env, {"dest": str(dest), "return_secrets": False, "registries": [basic(env)]}, tmp_path)
    assert result.failed and "dest: " in result.result["msg"] and "2 hard links" in result.result["msg"], result.result
    assert {p.name: p.read_bytes() for p in dest.parent.iterdir()} == before
    assert os.stat(other).st_ino == os.stat(dest.parent / linked).st_ino


def test_the_lock_file_is_removed_after_a_failure_inside_the_lock(env, tmp_path, dest):
    """verify: the registry refuses the password after the lock is taken and the file read."""
    dest.parent.mkdir(parents=True)
    dest.write_text('{"auths": {}}')
    result = run(env, {"dest": str(dest), "return_secrets": False, "verify": True,
                       "registry_ca_path": env["REGCRED_REGISTRY_CA"],
                       "registries": [basic(env, password="wrong-password-0123456789")]}, tmp_path)
    assert result.failed and "verify:" in result.result["msg"], result.result
    assert sorted(os.listdir(dest.parent)) == ["config.json"]
    assert run(env, {"dest": str(dest), "return_secrets": False, "registries": [basic(env)]}, tmp_path).result["changed"]
    assert sorted(os.listdir(dest.parent)) == ["config.json", "config.json.regcred.json"]
