"""make bench's ceiling (d) connects with the client certificate of the local environment's kubeconfig."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

# pylint: disable=wrong-import-position
import bench  # noqa: E402


def test_the_ceiling_takes_server_ca_and_client_certificate_of_the_current_context():
    kubeconfig = {
        "current-context": "local",
        "contexts": [{"name": "other", "context": {"cluster": "far", "user": "nobody"}},
                     {"name": "local", "context": {"cluster": "near", "user": "admin"}}],
        "clusters": [{"name": "far", "cluster": {"server": "https://192.0.2.1", "certificate-authority": "/far.crt"}},
                     {"name": "near", "cluster": {"server": "https://127.0.0.1:6443", "certificate-authority": "/ca.crt"}}],
        "users": [{"name": "nobody", "user": {"client-certificate": "/n.crt", "client-key": "/n.key"}},
                  {"name": "admin", "user": {"client-certificate": "/a.crt", "client-key": "/a.key"}}],
    }
    assert bench.kubeconfig_flags(kubeconfig) == ["-server", "https://127.0.0.1:6443", "-ca", "/ca.crt",
                                                  "-cert", "/a.crt", "-key", "/a.key"]


def test_the_ceiling_is_one_of_the_default_tools_and_runs_like_the_raw_client():
    settings = bench.Settings({"BENCH_SIZES": "10,5000", "BENCH_RUNS": "2"})
    assert "ceiling" in settings.tools
    assert settings.runs_of("ceiling", 5000, "converge") == 2
    assert bench.Settings({"BENCH_TOOLS": "module"}).runs_of("ceiling", 10, "converge") == 0


def test_the_loop_does_not_run_above_its_largest_n_and_at_that_n_only_in_the_scenarios_named():
    settings = bench.Settings({"BENCH_SIZES": "10,100,1000,5000", "BENCH_LOOP_MAX_N": "1000",
                               "BENCH_LOOP_AT_LARGEST": "converge", "BENCH_LOOP_RUNS": "1"})
    assert settings.loop_sizes() == [10, 100, 1000]
    assert [settings.runs_of("loop", n, "noop") for n in (10, 100, 1000, 5000)] == [3, 1, 0, 0]
    assert [settings.runs_of("loop", n, "converge") for n in (10, 100, 1000, 5000)] == [3, 1, 1, 0]
    assert settings.runs_of("module", 5000, "noop") == 3
    unbounded = bench.Settings({"BENCH_SIZES": "10,100", "BENCH_LOOP_AT_LARGEST": "converge"})
    assert unbounded.loop_sizes() == [10, 100]
    assert [unbounded.runs_of("loop", n, "attach") for n in (10, 100)] == [3, 0]
