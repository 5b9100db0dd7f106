"""The Docker images: built from the Dockerfile, run as a pipeline runs them, compared with the host.

Builds both targets (minutes the first time; Docker's cache makes later runs quick), so
it is marked slow and skipped, with the reason shown, where no Docker engine answers or
the base image is not present. Base image: ``RNAIGLOO_BASE_IMAGE`` (default the official
``python:3.12-slim``; where Docker Hub is out of reach, ``localbase:py3.12`` built by
``../shared/tools/docker-local-base.sh``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT, TINY_SETTINGS, TSV_ENGINE_TOLERANCE, run_cli

pytestmark = pytest.mark.slow

BASE = os.environ.get("RNAIGLOO_BASE_IMAGE", "python:3.12-slim")
TAG = "rnaigloo-test"


def _docker(*args: str, check: bool = True, timeout: int = 1800) -> subprocess.CompletedProcess:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args[:3])} ... failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc


@pytest.fixture(scope="module")
def images() -> dict[str, str]:
    if shutil.which("docker") is None:
        pytest.skip("no docker command: the image tests need a Docker engine")
    if _docker("info", check=False, timeout=60).returncode != 0:
        pytest.skip("no Docker engine answers ('docker info' fails); start dockerd to test the images")
    if _docker("image", "inspect", BASE, check=False, timeout=60).returncode != 0:
        pytest.skip(
            f"base image {BASE} is not present: 'docker pull {BASE}', or set RNAIGLOO_BASE_IMAGE "
            "(e.g. localbase:py3.12 from ../shared/tools/docker-local-base.sh)"
        )
    built = {}
    for target in ("classify", "full"):
        tag = f"{TAG}:{target}"
        _docker("build", "--build-arg", f"BASE_IMAGE={BASE}", "--target", target, "-t", tag, str(ROOT))
        built[target] = tag
    return built


@pytest.fixture
def data(tmp_path) -> tuple[Path, str]:
    """A folder to mount at /data, owned by a non-root user, and that user as --user."""
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("transcripts.fa.gz", "train_coding.fa.gz", "train_noncoding.fa.gz"):
        shutil.copy(EXAMPLES / name, folder / name)
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:  # as root, act as a host user who is not (files must come back owned by them)
        uid = gid = 4242
        for path in [folder, *folder.iterdir()]:
            os.chown(path, uid, gid)
    return folder, f"{uid}:{gid}"


def _run(image: str, folder: Path, user: str, *args: str) -> subprocess.CompletedProcess:
    return _docker("run", "--rm", "--user", user, "-v", f"{folder}:/data", image, *args, check=False)


def test_images_run_as_a_user_who_is_not_root(images):
    for image in images.values():
        assert _docker("image", "inspect", "-f", "{{.Config.User}}", image).stdout.strip() == "rnaigloo"
        uid = _docker("run", "--rm", "--entrypoint", "id", image, "-u").stdout.strip()
        assert uid != "0"
        assert _docker("run", "--rm", image, "--version").stdout.startswith("rnaigloo, version")


def test_classify_image_gives_the_host_table(images, data, tmp_path):
    folder, user = data
    res = _run(images["classify"], folder, user, "classify", "transcripts.fa.gz", "-o", "calls.tsv", "-q")
    assert res.returncode == 0, res.stderr
    host = tmp_path / "host.tsv"
    assert run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-o", host, "-q").code == 0
    assert (folder / "calls.tsv").read_bytes() == host.read_bytes()
    assert f"{(folder / 'calls.tsv').stat().st_uid}:{(folder / 'calls.tsv').stat().st_gid}" == user
    # the same through split / classify per shard / merge, as a pipeline runs it (batches of 16)
    host16 = tmp_path / "host16.tsv"
    assert run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-o", host16, "-q", "-b", "16").code == 0
    image = images["classify"]
    res = _run(image, folder, user, "split", "transcripts.fa.gz", "-n", "3", "-b", "16", "-d", "shards", "-q")
    assert res.returncode == 0, res.stderr
    for i in (1, 2, 3):
        res = _run(image, folder, user, "classify", f"shards/shard_000{i}.fa", "-b", "16", "-o", f"shards/{i}.tsv", "-q")
        assert res.returncode == 0, res.stderr
    tables = [f"shards/{i}.tsv" for i in (3, 1, 2)]
    res = _run(image, folder, user, "merge", "--manifest", "shards/manifest.json", *tables, "-o", "m.tsv")
    assert res.returncode == 0, res.stderr
    assert (folder / "m.tsv").read_bytes() == host16.read_bytes()


def test_classify_image_refuses_tensorflow_commands_in_one_line(images, data):
    folder, user = data
    for args in (
        ("train", "--coding", "train_coding.fa.gz", "--noncoding", "train_noncoding.fa.gz", "-o", "m.keras"),
        ("classify", "transcripts.fa.gz", "--engine", "tensorflow"),
    ):
        res = _run(images["classify"], folder, user, *args)
        assert res.returncode == 1
        assert res.stderr == (
            "rnaigloo: error: this image has no TensorFlow (it runs classify with the NumPy engine only); "
            "use the full image\n"
        )
    assert not (folder / "m.keras").exists()


def test_full_image_trains_and_its_model_scores_the_same_everywhere(images, data, tmp_path):
    folder, user = data
    settings = [a for key, value in TINY_SETTINGS.items() for a in ("--set", f"{key}={value}")]
    res = _run(
        images["full"], folder, user, "train", "--coding", "train_coding.fa.gz", "--noncoding",
        "train_noncoding.fa.gz", "-o", "tiny.keras", "--epochs", "1", "--seed", "3", "-q", *settings,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    for name in ("tiny.keras", "tiny.card.json", "tiny.report.json", "tiny.report.png"):
        assert f"{(folder / name).stat().st_uid}:{(folder / name).stat().st_gid}" == user
    host = tmp_path / "host.tsv"
    assert run_cli("classify", folder / "transcripts.fa.gz", "-m", folder / "tiny.keras", "-o", host, "-q").code == 0
    for image, engine in ((images["classify"], "numpy"), (images["full"], "tensorflow")):
        res = _run(image, folder, user, "classify", "transcripts.fa.gz", "-m", "tiny.keras", "--engine", engine,
                   "-o", f"{engine}.tsv", "-q")  # fmt: skip
        assert res.returncode == 0, res.stderr
    # the same engine in the image gives the host's table byte for byte; TensorFlow's sums
    # run in another order, so its scores agree within the engines' tolerance (a fifth
    # decimal may round the other way) and every other column is identical
    assert (folder / "numpy.tsv").read_bytes() == host.read_bytes()
    want = [line.split("\t") for line in host.read_text().splitlines()]
    got = [line.split("\t") for line in (folder / "tensorflow.tsv").read_text().splitlines()]
    assert [row[:1] + row[2:] for row in got] == [row[:1] + row[2:] for row in want]
    assert all(abs(float(g[1]) - float(w[1])) <= TSV_ENGINE_TOLERANCE for g, w in zip(got[1:], want[1:]))
