"""Worker processes: they die with rnaigloo, an interruption at any moment ends in one
line, and their number is capped at the CPUs the process may use."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from conftest import EXAMPLES, run_cli
from test_cli_errors import assert_one_error_line

from rnaigloo.runtime.resources import available_cores, cgroup_cpu_limit

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process-group signals and cgroups are Linux's")


def _env() -> dict[str, str]:
    """The environment of the rnaigloo under test (the installed one in CI, the checkout with PYTHONPATH)."""
    return dict(os.environ)


@pytest.fixture(scope="module")
def big_fasta(tmp_path_factory) -> Path:
    """20,000 random transcripts of 2 kb: several seconds of work for two workers."""
    path = tmp_path_factory.mktemp("big") / "big.fa"
    rng = np.random.default_rng(2)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    with open(path, "wb") as fh:
        for start in range(0, 20_000, 1000):
            block = letters[rng.integers(0, 4, size=(1000, 2000))]
            fh.write(b"".join(b">r%d\n" % (start + i) + row.tobytes() + b"\n" for i, row in enumerate(block)))
    return path


def _default_signals() -> None:
    """As from an interactive shell: a runner that ignores SIGINT (a background job) passes that on."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _block_stop_signals() -> None:
    _default_signals()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})


def _start(big: Path, model: Path, out: Path, hold_signals: bool = False) -> subprocess.Popen:
    """``classify`` with two workers, signals as an interactive shell leaves them.

    ``hold_signals``: started with SIGINT and SIGTERM blocked.

    Blocked signals wait until rnaigloo's entry point unblocks them: so a signal sent
    while Python itself starts (before any rnaigloo code runs, where Python's default
    handling applies; tenths of a second on a loaded machine) is acted on by rnaigloo.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "rnaigloo", "classify", str(big), "-m", str(model), "-t", "2", "-o", str(out), "-q"],
        env=_env(), cwd=out.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a job under a pipeline manager
        preexec_fn=_block_stop_signals if hold_signals else _default_signals,
    )  # fmt: skip


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _command_line(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:  # gone (or a zombie) since it was listed
        return ""


def _gone(procs: list[psutil.Process], timeout: float) -> list[int]:
    """Pids still running (zombies count as gone) after waiting up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        alive = []
        for p in procs:
            try:
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(p.pid)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def _kill_all(procs: list[psutil.Process]) -> None:
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass


def test_kill_9_leaves_no_worker_behind(tmp_path, model_file, big_fasta):
    proc = _start(big_fasta, model_file, tmp_path / "out.tsv")  # the bundled model: seconds of work anywhere
    kids: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 60
        while len([k for k in _descendants(proc.pid) if "forkserver" in _command_line(k)]) < 3:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the server and two workers did not start within 60 s"
            time.sleep(0.1)
        time.sleep(0.5)  # the workers are scoring
        kids = _descendants(proc.pid)
        proc.kill()
        proc.wait(10)
        alive = _gone(kids, 15)
        assert alive == [], f"still running after kill -9 of their parent: {alive}"
    finally:
        proc.kill()
        proc.wait()
        _kill_all(kids)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("out.tsv")] == []


@pytest.mark.parametrize("whom", ["process", "group"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_at_any_moment_of_the_start_ends_in_one_line(tmp_path, model_file, big_fasta, signum, whom):
    """The signal lands at several delays: during imports, while the workers start, while they score.

    Sent to the process (``kill``) or to its process group (Ctrl-C in a terminal, a job
    manager). The process starts with the signals held back (see :func:`_start`), so
    that on a loaded machine no delay falls into Python's own start-up.
    """
    code = 128 + signum
    for delay in (0.05, 0.4, 1.0, 1.6, 2.4):
        out = tmp_path / f"out{delay}.tsv"
        # the bundled model: seconds of work on any machine, so every delay lands during the run
        proc = _start(big_fasta, model_file, out, hold_signals=True)
        kids: list[psutil.Process] = []
        try:
            end = time.monotonic() + delay
            while time.monotonic() < end:
                kids += [k for k in _descendants(proc.pid) if k not in kids]
                time.sleep(0.02)
            assert proc.poll() is None, (delay, "the run ended before the signal was sent: the input is too small")
            if whom == "group":
                os.killpg(proc.pid, signum)
            else:
                proc.send_signal(signum)
            _, err = proc.communicate(timeout=60)
            kids += [k for k in _descendants(proc.pid) if k not in kids]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stderr = err.decode(errors="replace")
        assert "Traceback" not in stderr and "Error" not in stderr, (delay, stderr)
        assert proc.returncode == code, (delay, proc.returncode, stderr)
        word = "interrupted" if signum == signal.SIGINT else "terminated"
        assert stderr.splitlines() == [f"rnaigloo: {word}; no output file was written"], (delay, stderr)
        assert _gone(kids, 15) == [], (delay, "worker processes outlived the run")
        _kill_all(kids)
        assert not out.exists() and not list(tmp_path.glob(".*.part")), delay


# Imported by every Python process of the run (PYTHONPATH): the parent, the fork server
# and, forked from it, the workers. It logs "PID FUNCTION ARG" for each call of the
# functions that check or read a model, and for each worker that starts.
_COUNTING_SITECUSTOMIZE = """
import functools, importlib.machinery, os, sys

WATCH = {
    "rnaigloo.io.files": ["sha256_of"],
    "rnaigloo.network.probes": ["verify"],
    "rnaigloo.network.engine": ["read_keras_weights"],
    "rnaigloo.classify.workers": ["_worker_main"],
}


def counted(original):
    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        arg = os.path.basename(str(args[0])) if args and isinstance(args[0], (str, os.PathLike)) else "-"
        with open(os.environ["RNAIGLOO_CALL_LOG"], "a") as fh:
            fh.write(f"{os.getpid()} {original.__name__} {arg}\\n")
        return original(*args, **kwargs)

    return wrapper


class Finder:
    @staticmethod
    def find_spec(fullname, path, target=None):
        if fullname not in WATCH:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            for name in WATCH[fullname]:
                if hasattr(module, name):
                    setattr(module, name, counted(getattr(module, name)))

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, Finder())
"""


def test_each_model_is_checked_and_read_once_however_many_workers(tmp_path, model_file):
    """The parent hashes the model, reads its weights and scores the probes once; the
    workers get the checked network and read nothing (they used to load it again each)."""
    if available_cores() < 2:
        pytest.skip("one CPU: no worker processes are started")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_COUNTING_SITECUSTOMIZE)
    log = tmp_path / "calls.log"
    env = {**_env(), "RNAIGLOO_CALL_LOG": str(log)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH")) if p)
    out = tmp_path / "o.tsv"
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnaigloo", "classify", str(EXAMPLES / "transcripts.fa.gz"), "-m", str(model_file),
         "-t", "2", "-b", "8", "-o", str(out), "-q"],
        env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert len(out.read_text().splitlines()) == 41
    calls = [line.split() for line in log.read_text().splitlines()]
    by_name: dict[str, list[tuple[int, str]]] = {}
    for pid, name, arg in calls:
        by_name.setdefault(name, []).append((int(pid), arg))
    workers = {pid for pid, _ in by_name.get("_worker_main", [])}
    assert len(workers) == 2 and proc.pid not in workers, calls  # two worker processes really started
    for name in ("sha256_of", "read_keras_weights", "verify"):
        assert len(by_name.get(name, [])) == 1, (name, calls)  # once in all the processes together
        assert by_name[name][0][0] == proc.pid, (name, calls)  # and in the parent
    assert by_name["sha256_of"][0][1] == by_name["read_keras_weights"][0][1] == model_file.name


def test_threads_beyond_the_cpus_are_capped(tmp_path, tiny_model):
    fasta = tmp_path / "in.fa"
    fasta.write_text("".join(f">r{i}\nATGAAACCCGGGTTTTAA\n" for i in range(50)))
    res = run_cli("classify", fasta, "-m", tiny_model, "-t", "9999", "-o", tmp_path / "o.tsv")
    assert res.code == 0, res.stderr
    cores = available_cores()
    assert f"-t 9999 is more than the {cores} CPU(s) available to this process; using {cores}" in res.stderr
    from rnaigloo.classify.classifier import Classifier

    assert Classifier.load([tiny_model], workers=9999).workers == cores


def test_a_worker_that_cannot_start_is_one_line(tmp_path, tiny_model, monkeypatch):
    if available_cores() < 2:
        pytest.skip("one CPU: no worker processes are started")
    import multiprocessing.process

    started = []

    def refuse(self):
        if started:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        original(self)
        started.append(self.pid)

    original = multiprocessing.process.BaseProcess.start
    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", refuse)
    fasta = tmp_path / "in.fa"
    fasta.write_text("".join(f">r{i}\nATGAAACCCGGGTTTTAA\n" for i in range(50)))
    res = run_cli("classify", fasta, "-m", tiny_model, "-t", "2", "-o", tmp_path / "o.tsv", "-q")
    assert_one_error_line(res, "cannot start worker process 2 of 2: Resource temporarily unavailable", "--threads")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.fa"]
    assert len(started) == 1 and not psutil.pid_exists(started[0]) or _gone([psutil.Process(started[0])], 10) == []


def test_a_worker_killed_while_scoring_is_one_line(tmp_path, tiny_model, big_fasta, monkeypatch):
    if available_cores() < 2:
        pytest.skip("one CPU: no worker processes are started")
    import rnaigloo.classify.workers as workers

    original = workers.WorkerPool.receive

    def receive(self, i):
        if i == 3:
            os.kill(self.procs[1].pid, signal.SIGKILL)
        return original(self, i)

    monkeypatch.setattr(workers.WorkerPool, "receive", receive)
    res = run_cli("classify", big_fasta, "-m", tiny_model, "-t", "2", "-o", tmp_path / "o.tsv", "-q")
    assert_one_error_line(res, "worker process 2 of 2 stopped unexpectedly (killed by signal 9)", "out of memory?")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- CPU quota


def _cgroup(tmp_path: Path, self_cgroup: str, files: dict[str, str]) -> tuple[str, str]:
    root = tmp_path / "cgroup"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    proc = tmp_path / "self_cgroup"
    proc.write_text(self_cgroup)
    return str(root), str(proc)


@pytest.mark.parametrize(
    ("self_cgroup", "files", "expected"),
    [
        ("0::/\n", {"cpu.max": "150000 100000\n"}, 1.5),  # v2, a container's --cpus=1.5
        ("0::/\n", {"cpu.max": "max 100000\n"}, None),  # v2, no quota
        ("0::/job/step\n", {"cpu.max": "max 100000\n", "job/cpu.max": "200000 100000\n", "job/step/cpu.max": "max 100000\n"}, 2.0),
        ("4:cpu,cpuacct:/slurm\n1:name=systemd:/\n", {"cpu,cpuacct/slurm/cpu.cfs_quota_us": "300000\n", "cpu,cpuacct/slurm/cpu.cfs_period_us": "100000\n"}, 3.0),
        ("4:cpu,cpuacct:/\n", {"cpu,cpuacct/cpu.cfs_quota_us": "-1\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n"}, None),
    ],
)
def test_cgroup_cpu_quota_is_read(tmp_path, self_cgroup, files, expected):
    root, proc = _cgroup(tmp_path, self_cgroup, files)
    assert cgroup_cpu_limit(root, proc) == expected


def test_available_cores_honours_the_quota(monkeypatch):
    import rnaigloo.runtime.resources as runtime

    monkeypatch.setattr(runtime, "cgroup_cpu_limit", lambda: 0.5)
    assert runtime.available_cores() == 1
    monkeypatch.setattr(runtime, "cgroup_cpu_limit", lambda: None)
    assert runtime.available_cores() == len(os.sched_getaffinity(0))


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_a_signal_ignored_by_the_caller_stays_ignored(tmp_path, tiny_model):
    """``nohup`` or a background job ignores SIGINT: rnaigloo keeps it ignored and finishes."""
    fasta = tmp_path / "in.fa"
    fasta.write_text("".join(f">r{i}\nATGAAACCCGGGTTTTAA\n" for i in range(2000)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnaigloo", "classify", str(fasta), "-m", str(tiny_model), "-t", "2", "-o", str(tmp_path / "o.tsv"), "-q"],
        env=_env(), stderr=subprocess.PIPE, start_new_session=True, preexec_fn=_ignore_sigint,
    )  # fmt: skip
    try:
        for _ in range(5):
            time.sleep(0.3)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0 and err == b"", err
    assert len((tmp_path / "o.tsv").read_text().splitlines()) == 2001


_FAULTS = """
import random, resource, sys
from rnaigloo.runtime.resources import keep_freed_memory, limit_numpy_threads
limit_numpy_threads(1)
if not keep_freed_memory():
    print("no-mallopt")
    sys.exit()
from rnaigloo.classify.classifier import Classifier
clf = Classifier.load(None)
rng = random.Random(1)
seqs = ["".join(rng.choice("ACGT") for _ in range(rng.randint(200, 4000))) for _ in range(128)]
clf.score_sequences(seqs)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
clf.score_sequences(seqs)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def test_scoring_reuses_freed_memory_instead_of_faulting_in_fresh_pages():
    """With glibc's defaults the second batch took ~13,000 page faults (a fifth of the
    scoring time was system time); with keep_freed_memory() it reuses the first's blocks."""
    res = subprocess.run([sys.executable, "-c", _FAULTS], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    if res.stdout.strip() == "no-mallopt":
        pytest.skip("this C library has no mallopt (not glibc): nothing to tune")
    assert int(res.stdout) < 300
