"""Two processes fetching MNIST at once leave one valid cache (issue: robust data)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from helpers import config, data

REAL_CACHE = config.REPO_ROOT / "data" / data.CACHE_NAME

SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from helpers import data

    real, target = Path(sys.argv[1]), Path(sys.argv[2])

    def slow_copy(workdir):
        time.sleep(1.0)  # widen the window in which both processes want to fetch
        return data.read_cache(real)

    report = data.fetch_mnist(target, sources=(("slow copy", slow_copy),))
    print(report.source)
    """
)


@pytest.mark.slow
def test_two_processes_fetching_at_once_leave_one_valid_cache(tmp_path):
    if not REAL_CACHE.exists():
        pytest.skip("data/mnist.npz is missing: run `python -m helpers.data` first")
    target = tmp_path / "shared" / data.CACHE_NAME
    command = [sys.executable, "-c", SCRIPT, str(REAL_CACHE), str(target)]
    procs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=config.REPO_ROOT)
        for _ in range(2)
    ]
    sources = sorted(p.communicate(timeout=120)[0].strip() for p in procs)
    assert [p.returncode for p in procs] == [0, 0]
    assert sources == ["local cache", "slow copy"]  # one fetched, the other waited and reused
    assert data.verify_arrays(data.read_cache(target)) == data.OFFICIAL_SHA256
    leftovers = sorted(p.name for p in target.parent.iterdir() if p.name != ".mnist.lock")
    assert leftovers == [data.CACHE_NAME]
